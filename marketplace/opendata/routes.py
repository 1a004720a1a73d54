"""The bulk open data download."""

from __future__ import annotations

from litestar import Response, get

from marketplace.core.auth import PUBLIC, allow
from marketplace.opendata import exports


@get("/api/v1/opendata/ocds/bulk/ocds-releases.json.gz", opt=allow(PUBLIC), tags=["transparency"])
async def ocds_bulk_download() -> Response[bytes]:
    """Every public release in one gzipped OCDS release package (rebuilt by the worker every 15 minutes).
    `X-Content-SHA256` is the hash of the file and `Last-Modified` when it was built."""
    bulk = await exports.ocds_bulk()
    return Response(bulk["content"], media_type="application/gzip", headers={
        "Content-Disposition": f'attachment; filename="{exports.OCDS_BULK}"', "X-Content-SHA256": bulk["sha256"],
        "X-OCDS-Built-At": bulk["built_at"], "Cache-Control": "public, max-age=300"})


ROUTES = [ocds_bulk_download]
