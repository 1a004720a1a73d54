"""The bulk download: every public release in one gzipped OCDS release package, rebuilt by the
worker at most every `REBUILD_EVERY` (and on first request when it was never built)."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import timedelta
from typing import Any

from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.opendata.tables import OpenDataExport
from marketplace.transparency import ocds

OCDS_BULK = "ocds-releases.json.gz"
REBUILD_EVERY = timedelta(minutes=15)


async def build_ocds_bulk() -> dict[str, Any]:
    """Build and store the bulk file now; returns its metadata."""
    package = await ocds.release_package(None)
    releases = len(package["releases"]) if package else 0
    body = json.dumps(package or {}, ensure_ascii=False, separators=(",", ":")).encode()
    content = gzip.compress(body, compresslevel=6, mtime=0)
    row = {OpenDataExport.media_type: "application/gzip", OpenDataExport.content: content,
           OpenDataExport.sha256: hashlib.sha256(content).hexdigest(), OpenDataExport.size_bytes: len(content),
           OpenDataExport.releases: releases, OpenDataExport.built_at: now()}
    updated = await OpenDataExport.update(row).where(OpenDataExport.name == OCDS_BULK).returning(OpenDataExport.id)
    if not updated:
        await OpenDataExport.insert(OpenDataExport(name=OCDS_BULK, **{c._meta.name: v for c, v in row.items()}))
    return {"name": OCDS_BULK, "releases": releases, "size_bytes": len(content)}


async def rebuild_ocds_bulk() -> int:
    """Worker job: rebuild the bulk file when it is older than REBUILD_EVERY (1 when rebuilt)."""
    row = await OpenDataExport.select(OpenDataExport.built_at).where(OpenDataExport.name == OCDS_BULK).first()
    if row is not None and now() - as_utc(row["built_at"]) < REBUILD_EVERY:
        return 0
    await build_ocds_bulk()
    return 1


async def ocds_bulk() -> dict[str, Any]:
    """The stored bulk file (built now if it never was)."""
    row = await OpenDataExport.select().where(OpenDataExport.name == OCDS_BULK).first()
    if row is None:
        await build_ocds_bulk()
        row = await OpenDataExport.select().where(OpenDataExport.name == OCDS_BULK).first()
    return {"content": bytes(row["content"]), "sha256": row["sha256"], "built_at": rfc3339(row["built_at"]),
            "releases": row["releases"]}
