"""Serving stored documents, and the public challenge brief."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from marketplace.core.auth import PUBLIC, allow
from marketplace.core.headers import content_disposition
from marketplace.core.i18n import current_locale
from marketplace.documents import briefs
from marketplace.documents.services import filename, read_bytes
from marketplace.documents.tables import Document


async def pdf_response(document: Document, stem: str | None = None, inline: bool = True) -> Response[bytes]:
    """The stored PDF with its SHA-256 as ETag (call after your own authorisation check)."""
    return Response(
        content=await read_bytes(document),
        media_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(filename(document, stem), inline=inline),
            "ETag": f'"{document.sha256}"',
            "X-Document-SHA256": document.sha256,
            "X-Document-Version": str(document.version),
            "Cache-Control": "private, max-age=0, must-revalidate",
        },
    )


@get("/api/v1/challenges/{challenge_id:str}/brief", opt=allow(PUBLIC), tags=["documents"],
     media_type="application/pdf")
async def challenge_brief_api(challenge_id: str, lang: str | None = None) -> Response[bytes]:
    """The challenge brief as a PDF (published challenges; `?lang=en|fr|nl`)."""
    document = await briefs.challenge_brief(challenge_id, lang or current_locale.get())
    return await pdf_response(document, "challenge-brief")


@get("/challenges/{challenge_id:str}/brief.pdf", opt=allow(PUBLIC), include_in_schema=False,
     media_type="application/pdf")
async def challenge_brief_page(request: Request[Any, Any, Any], challenge_id: str) -> Response[bytes]:
    """The brief for a page link, in the visitor's language."""
    document = await briefs.challenge_brief(challenge_id, current_locale.get())
    return await pdf_response(document, "challenge-brief")
