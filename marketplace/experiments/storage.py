"""Deliverable files: checked by extension, content signature and size, stored in the file storage
(`marketplace.files`) by a random name, so a user's file name never reaches the file system."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.response import Stream

from marketplace import files
from marketplace.core.clock import now
from marketplace.core.errors import FieldError, Invalid
from marketplace.core.headers import content_disposition

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
_ZIP = b"PK\x03\x04"
# extension: (content type, required leading bytes; None means UTF-8 text)
ALLOWED: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain; charset=utf-8", None),
    ".csv": ("text/csv; charset=utf-8", None),
    ".md": ("text/markdown; charset=utf-8", None),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", _ZIP),
    ".odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    ".zip": ("application/zip", _ZIP),
}


@dataclass
class CheckedFile:
    filename: str
    content_type: str
    content: bytes
    sha256: str


def safe_filename(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\- ]+", "_", base).strip(" .") or "file"
    return cleaned[-150:]


def check(files: list[tuple[str, bytes]], field: str = "files") -> list[CheckedFile]:
    """Refuse (422, naming the file) a type we do not accept, a content that is not what its name says, or a size too large."""
    if len(files) > MAX_FILES:
        raise Invalid(FieldError(field, f"at most {MAX_FILES} files per deliverable"))
    checked, errors = [], []
    for index, (name, content) in enumerate(files):
        where, filename = f"{field}[{index}]", safe_filename(name)
        extension = Path(filename).suffix.lower()
        if extension not in ALLOWED:
            errors.append(FieldError(where, f"{filename}: this type is not accepted (use PDF, an image, text, CSV or an office document)"))
            continue
        if len(content) == 0:
            errors.append(FieldError(where, f"{filename}: the file is empty"))
            continue
        if len(content) > MAX_FILE_BYTES:
            errors.append(FieldError(where, f"{filename}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"))
            continue
        content_type, magic = ALLOWED[extension]
        if magic is None:
            try:
                content.decode("utf-8")
            except UnicodeDecodeError:
                errors.append(FieldError(where, f"{filename}: not a UTF-8 text file"))
                continue
        elif not content.startswith(magic):
            errors.append(FieldError(where, f"{filename}: the content is not a {extension[1:].upper()} file"))
            continue
        checked.append(CheckedFile(filename, content_type, content, hashlib.sha256(content).hexdigest()))
    if errors:
        raise Invalid(errors)
    return checked


async def store(content: bytes, folder: str = "deliverables") -> str:
    """Write new bytes under a fresh random name in `folder` of the file storage (never overwriting); returns the name."""
    name = uuid.uuid4().hex
    await files.write(folder, name, content)
    return name


async def remove(name: str, folder: str = "deliverables") -> None:
    await files.delete(folder, name)


async def read(name: str, folder: str = "deliverables") -> AsyncIterator[bytes]:
    """The stored file's bytes, in chunks for a streamed response (FileNotFoundError before the first one)."""
    return await files.opened(folder, name)


def download(row: dict[str, Any], chunks: AsyncIterator[bytes], size: int) -> Stream:
    """A stored file as a streamed download under its own (safe) name; never sniffed into another type."""
    return Stream(chunks, media_type=row["content_type"], headers={
        "Content-Disposition": content_disposition(row["filename"]), "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff"})


GRACE = timedelta(hours=1)  # far longer than any upload takes between writing its file and committing its row
SWEEP_EVERY = timedelta(hours=1)
_last_sweep: dict[str, datetime] = {}


async def sweep(folder: str, referenced: set[str], moment: datetime | None = None) -> int:
    """Remove the files of `folder` that no row refers to and that are older than GRACE: what a crash
    between writing a file and committing its row leaves behind. Returns how many were removed."""
    orphans = await files.unreferenced(folder, referenced, (moment or now()) - GRACE)
    for name in orphans:
        await files.delete(folder, name)
    return len(orphans)


def sweep_job(folder: str, referenced: Callable[[], Awaitable[set[str]]]) -> Callable[[], Awaitable[int]]:
    """A worker job that sweeps `folder` at most once an hour (`referenced` lists the stored names rows point at)."""
    async def sweep_unreferenced_files() -> int:
        moment = now()
        if folder in _last_sweep and moment - _last_sweep[folder] < SWEEP_EVERY:
            return 0
        _last_sweep[folder] = moment
        return await sweep(folder, await referenced(), moment)

    sweep_unreferenced_files.__name__ = f"sweep_unreferenced_{folder}_files"
    return sweep_unreferenced_files
