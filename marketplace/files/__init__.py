"""Where file bytes live: one module for every upload and generated document.

`MARKETPLACE_FILE_STORAGE` chooses the backend:

- `local` (the default): files under `MARKETPLACE_UPLOAD_DIR`, at `<folder>/<name>`. One machine, or a folder
  every instance mounts.
- `database`: the bytes in the `stored_file` table of the marketplace's own database, keyed by `<folder>/<name>`, so
  that every app instance behind a load balancer reads what another wrote, with nothing more to run or back up.
  A write made inside a transaction commits or rolls back with it.

Names are chosen by the code, never by users: a random hex name for uploads, `ab/<sha256>.pdf` for documents.
Everything is async; the local backend does its file I/O in a thread so that the event loop keeps serving.

    from marketplace import files
    await files.write("proposals", name, data)        # a new name: FileExistsError if taken
    await files.write_once("documents", name, data)   # content-addressed: an existing file is kept
    data = await files.read("proposals", name)        # FileNotFoundError if absent
    chunks = await files.opened("proposals", name)    # for a streamed response: FileNotFoundError before it starts
    await files.delete("proposals", name)
    await files.unreferenced("proposals", names_rows_refer_to, older_than)  # for the orphan sweep
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path

from marketplace.settings import get_settings

BACKENDS = ("local", "database")
CHUNK = 256 * 1024
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199})?")
_FOLDER = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def backend() -> str:
    return get_settings().file_storage


def _check(folder: str, name: str) -> str:
    if not _FOLDER.fullmatch(folder) or not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"not a storage name: {folder!r}/{name!r}")
    return f"{folder}/{name}"


def _now() -> float:
    from marketplace.core.clock import now

    return now().timestamp()


def _path(folder: str, name: str) -> Path:
    return get_settings().upload_dir / _check(folder, name)


# --- local folder -------------------------------------------------------------------------------

def _local_write(path: Path, data: bytes, once: bool, moment: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not once:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never overwrites
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.utime(path, (moment, moment))  # the app's clock, as the database backend's created_at
        return
    if path.exists():
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{id(data)}.tmp")
    tmp.write_bytes(data)
    os.utime(tmp, (moment, moment))
    os.replace(tmp, path)  # atomic: readers never see half a file


def _local_chunks(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _local_old_names(folder: Path, cutoff: float) -> list[str]:
    if not folder.is_dir():
        return []
    return [p.name for p in folder.iterdir() if p.is_file() and not p.name.endswith(".tmp") and p.stat().st_mtime < cutoff]


# --- the database -------------------------------------------------------------------------------

async def _db_write(folder: str, key: str, data: bytes, once: bool) -> None:
    from marketplace.core.clock import now
    from marketplace.files.tables import StoredFile

    query = StoredFile.insert(StoredFile(key=key, folder=folder, size=len(data), content=data, created_at=now()))
    if once:
        await query.on_conflict(action="DO NOTHING")
        return
    try:
        await query
    except Exception as exc:
        from marketplace.core.db import is_integrity_error

        if is_integrity_error(exc):
            raise FileExistsError(key) from None
        raise


async def _db_read(key: str) -> bytes:
    from marketplace.files.tables import StoredFile

    row = await StoredFile.select(StoredFile.content).where(StoredFile.key == key).first()
    if row is None:
        raise FileNotFoundError(key)
    return bytes(row["content"])


# --- the interface ------------------------------------------------------------------------------

async def write(folder: str, name: str, data: bytes) -> None:
    """Store `data` under a new name (FileExistsError if the name is taken: nothing is ever overwritten)."""
    await _store(folder, name, data, once=False)


async def write_once(folder: str, name: str, data: bytes) -> None:
    """Store content-addressed `data` (its name derives from its hash): a file already there is kept as it is."""
    await _store(folder, name, data, once=True)


async def _store(folder: str, name: str, data: bytes, once: bool) -> None:
    key = _check(folder, name)
    if backend() == "database":
        await _db_write(folder, key, data, once)
    else:
        await asyncio.to_thread(_local_write, _path(folder, name), data, once, _now())


async def read(folder: str, name: str) -> bytes:
    """The stored bytes (FileNotFoundError when there are none)."""
    key = _check(folder, name)
    if backend() == "database":
        return await _db_read(key)
    return await asyncio.to_thread(_path(folder, name).read_bytes)


async def stream(folder: str, name: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
    """The stored bytes in chunks, so that a large file is never held whole in memory (local folder) or in one
    row fetch (database: `substr` of the column, one query per chunk)."""
    key = _check(folder, name)
    offset = 0
    if backend() == "database":
        from marketplace.files.tables import StoredFile

        while True:
            rows = await StoredFile.raw(
                "SELECT substr(content, {}, {}) AS part FROM stored_file WHERE key = {}", offset + 1, chunk_size, key)
            if not rows:
                if offset == 0:
                    raise FileNotFoundError(key)
                return
            part = bytes(rows[0]["part"] or b"")
            if part:
                yield part
            if len(part) < chunk_size:
                return
            offset += len(part)
    path = _path(folder, name)
    if not await asyncio.to_thread(path.is_file):
        raise FileNotFoundError(key)
    while True:
        part = await asyncio.to_thread(_local_chunks, path, offset, chunk_size)
        if part:
            yield part
        if len(part) < chunk_size:
            return
        offset += len(part)


async def opened(folder: str, name: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
    """`stream`, with its first chunk already read: a missing file raises FileNotFoundError here, before a response
    has started, rather than halfway through one."""
    chunks = stream(folder, name, chunk_size)
    first = await anext(chunks, b"")

    async def whole() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return whole()


async def exists(folder: str, name: str) -> bool:
    key = _check(folder, name)
    if backend() == "database":
        from marketplace.files.tables import StoredFile

        return await StoredFile.exists().where(StoredFile.key == key)
    return await asyncio.to_thread(_path(folder, name).is_file)


async def delete(folder: str, name: str) -> None:
    """Remove a file (nothing happens when it is not there)."""
    key = _check(folder, name)
    if backend() == "database":
        from marketplace.files.tables import StoredFile

        await StoredFile.delete().where(StoredFile.key == key)
    else:
        await asyncio.to_thread(_path(folder, name).unlink, True)


async def names(folder: str) -> list[str]:
    """Every name stored directly in `folder` (for tests and the sweep)."""
    return await _older_than(folder, None)


async def _older_than(folder: str, cutoff: datetime | None) -> list[str]:
    _check(folder, "x")
    if backend() == "database":
        from marketplace.files.tables import StoredFile

        where = StoredFile.folder == folder
        if cutoff is not None:
            where &= StoredFile.created_at < cutoff
        rows = await StoredFile.select(StoredFile.key).where(where)
        return [r["key"].split("/", 1)[1] for r in rows]
    limit = float("inf") if cutoff is None else cutoff.timestamp()
    return await asyncio.to_thread(_local_old_names, get_settings().upload_dir / folder, limit)


def _local_files(root: Path) -> list[tuple[str, str, Path]]:
    found = []
    for path in sorted(root.rglob("*")) if root.is_dir() else []:
        parts = path.relative_to(root).parts
        if path.is_file() and not path.name.endswith(".tmp") and len(parts) in (2, 3):
            folder, name = parts[0], "/".join(parts[1:])
            if _FOLDER.fullmatch(folder) and _NAME.fullmatch(name):
                found.append((folder, name, path))
    return found


async def import_local_folder(root: Path | None = None) -> tuple[int, int]:
    """Copy every file of the upload folder into the database storage (moving from `local` to `database`); files
    already there are kept. Returns (files copied or already there, bytes read). The folder is left as it was."""
    count = size = 0
    for folder, name, path in await asyncio.to_thread(_local_files, root or get_settings().upload_dir):
        data = await asyncio.to_thread(path.read_bytes)
        await _db_write(folder, _check(folder, name), data, once=True)
        count, size = count + 1, size + len(data)
    return count, size


async def unreferenced(folder: str, referenced: Iterable[str], cutoff: datetime) -> list[str]:
    """The names in `folder` stored before `cutoff` that are not in `referenced`."""
    kept = set(referenced)
    return [name for name in await _older_than(folder, cutoff) if name not in kept]
