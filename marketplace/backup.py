"""`marketplace backup` and `marketplace restore`: the database and the stored files in one tar archive.

The archive holds `manifest.json`, the database (`database.dump`: pg_dump's custom format for PostgreSQL;
`database.sqlite3`: a consistent copy made with SQLite's backup API, safe while the marketplace runs) and
`files/`: the upload folder (MARKETPLACE_UPLOAD_DIR), and the development SECRET_KEY when it was generated into
the data directory (a configured one lives in the environment file, which is kept apart). The database is copied first, so every file it names is in
the archive (a file uploaded meanwhile may be there too, unreferenced: the orphan sweep removes it).

A restore goes into an empty database and an empty upload folder only: it never mixes two installations."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from marketplace.core.db import redacted_url
from marketplace.settings import Settings

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
KEY = "secret_key"


class BackupError(Exception):
    """Why a backup or restore cannot be made (one line for the operator)."""


@dataclass(frozen=True)
class Summary:
    archive: Path
    database: str
    files: int


def default_archive(settings: Settings) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.data_dir / "backups" / f"marketplace-{stamp}.tar"


def backup(settings: Settings, archive: Path) -> Summary:
    """Write the database and the upload folder to `archive` (written aside, then renamed into place)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in settings.upload_dir.rglob("*") if p.is_file()) if settings.upload_dir.is_dir() else []
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=archive.parent) as work:
        if settings.is_postgres:
            kind, database = "postgresql", Path(work) / "database.dump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(database),
                  "--dbname", redacted_url(settings.database_url)], settings.database_url, "pg_dump")
        else:
            kind, database = "sqlite", Path(work) / "database.sqlite3"
            source = _sqlite_path(settings.database_url)
            if not source.is_file():
                raise BackupError(f"there is no SQLite database at {source}")
            _sqlite_copy(source, database, read_only=True)
        generated_key = _generated_key(settings)
        manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "database": kind,
                    "files": len(files), "generated_secret_key": generated_key is not None}
        partial = Path(work) / "archive.tar"
        with tarfile.open(partial, "w") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            tar.add(database, arcname=database.name)
            if generated_key is not None:  # sessions, tokens and the audit trail's MACs depend on it
                _add_bytes(tar, KEY, generated_key.encode())
            for path in files:
                tar.add(path, arcname=f"{FILES}/{path.relative_to(settings.upload_dir).as_posix()}", recursive=False)
        os.chmod(partial, 0o600)  # it holds every account and document
        partial.replace(archive)
    return Summary(archive, kind, len(files))


def restore(settings: Settings, archive: Path) -> Summary:
    """Put the database and files of `archive` into the (empty) database and upload folder of `settings`."""
    try:
        tar = tarfile.open(archive, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive} cannot be read as a backup archive: {exc}") from None
    with tar, tempfile.TemporaryDirectory(prefix="marketplace-restore-") as work:
        manifest = _manifest(tar, archive)
        kind = "postgresql" if settings.is_postgres else "sqlite"
        if manifest["database"] != kind:
            raise BackupError(f"{archive} holds a {manifest['database']} database but DATABASE_URL names {kind}")
        if settings.upload_dir.is_dir() and any(settings.upload_dir.iterdir()):
            raise BackupError(f"the upload folder {settings.upload_dir} is not empty: restore into an empty one")
        members = [m for m in tar.getmembers() if m.name.startswith(f"{FILES}/")]
        for member in members:
            if not member.isfile() or ".." in PurePosixPath(member.name).parts or member.name.startswith("/"):
                raise BackupError(f"{archive} holds an unexpected entry {member.name!r}: not restored")
        database = Path(work) / ("database.dump" if kind == "postgresql" else "database.sqlite3")
        _extract(tar, database.name, database, archive)
        if kind == "postgresql":
            _require_empty_postgres(settings.database_url)
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                  "--dbname", redacted_url(settings.database_url), str(database)], settings.database_url, "pg_restore")
        else:
            target = _sqlite_path(settings.database_url)
            if target.is_file() and _sqlite_has_tables(target):
                raise BackupError(f"the SQLite database {target} already holds tables: restore into a new file")
            target.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(database, target, read_only=False)
        for member in members:
            _extract(tar, member.name, settings.upload_dir / member.name.removeprefix(f"{FILES}/"), archive)
        if manifest.get("generated_secret_key") and _generated_key(settings) is not None:
            key_file = settings.data_dir / KEY
            key_file.unlink()
            _extract(tar, KEY, key_file, archive)
            key_file.chmod(0o600)
    return Summary(archive, kind, len(members))


def _generated_key(settings: Settings) -> str | None:
    """The development SECRET_KEY generated into the data directory, when that is the key in use (without SECRET_KEY
    set); a configured SECRET_KEY stays in the environment file, which is kept apart from backups."""
    try:
        key = (settings.data_dir / KEY).read_text().strip()
    except FileNotFoundError:
        return None
    return key if key == settings.secret_key else None


def _manifest(tar: tarfile.TarFile, archive: Path) -> dict:
    try:
        handle = tar.extractfile(MANIFEST)
        manifest = json.loads(handle.read()) if handle else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("database") not in ("postgresql", "sqlite"):
        raise BackupError(f"{archive} is not a marketplace backup (no valid {MANIFEST})")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has backup format {manifest.get('format')!r}; this version reads format {FORMAT}")
    return manifest


def _extract(tar: tarfile.TarFile, name: str, target: Path, archive: Path) -> None:
    try:
        source = tar.extractfile(name)
    except KeyError:
        source = None
    if source is None:
        raise BackupError(f"{archive} has no {name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with source, target.open("xb") as out:
        shutil.copyfileobj(source, out)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _sqlite_copy(source: Path, target: Path, *, read_only: bool) -> None:
    """A consistent copy, even while the marketplace writes (SQLite's online backup API)."""
    src = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro" if read_only else str(source), uri=read_only)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _sqlite_has_tables(path: Path) -> bool:
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
    finally:
        conn.close()


def _require_empty_postgres(url: str) -> None:
    done = _run(["psql", "--no-psqlrc", "--tuples-only", "--no-align", "--dbname", redacted_url(url), "--command",
                 "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"], url, "psql")
    if done.stdout.strip() != "0":
        raise BackupError("the database DATABASE_URL names already holds tables: restore into an empty one "
                          "(e.g. dropdb and createdb it again)")


def _run(command: list[str], url: str, tool: str) -> subprocess.CompletedProcess:
    """Run a PostgreSQL client tool on the URL without its password (given in PGPASSWORD: not in the process list)."""
    env = dict(os.environ)
    password = urlsplit(url).password
    if password is not None:
        env["PGPASSWORD"] = unquote(password)
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)") from None
    if done.returncode != 0:
        detail = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise BackupError(f"{tool} failed for {redacted_url(url)}: {detail}")
    return done
