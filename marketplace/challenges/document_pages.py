"""Pages for a challenge's documents: the buyer team's page to attach them (to a draft, or by amendment),
and the download link every reader of the challenge follows."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template

from marketplace.challenges import documents, services
from marketplace.challenges.document_controllers import file_response
from marketplace.challenges.services import TEAM_ROLES
from marketplace.core.auth import PUBLIC, allow, current
from marketplace.core.errors import DomainError
from marketplace.core.i18n import N_
from marketplace.core.i18n import gettext as _
from marketplace.settings import UPLOAD_BODY_LIMIT_MB
from marketplace.web.pages import errors_by_field, form_text, page, see_other

LABELS = {"title": N_("Document title"), "file": N_("File"), "replaces": N_("New version of"),
          "change_note": N_("What changed and why")}


async def _context(request: Request[Any, Any, Any], challenge_id: str) -> dict:
    row = await services.team_row(current(request), challenge_id)
    return {"c": row, "documents": documents.grouped(await documents.rows_of(row["id"])), "types": documents.TYPES,
            "max_mb": documents.MAX_BYTES // (1024 * 1024), "amending": row["status"] == "published",
            "can_attach": row["status"] in ("draft", "published")}


@get("/challenges/{challenge_id:str}/documents", opt=allow(*TEAM_ROLES), include_in_schema=False)
async def documents_page(request: Request[Any, Any, Any], challenge_id: str) -> Template:
    """The buyer team's documents of a challenge, every version, and the form to attach one."""
    return page(request, "challenges/documents.html", **await _context(request, challenge_id))


@post("/challenges/{challenge_id:str}/documents", opt=allow(*TEAM_ROLES), include_in_schema=False,
      request_max_body_size=UPLOAD_BODY_LIMIT_MB * 1024 * 1024)
async def attach_page(request: Request[Any, Any, Any], challenge_id: str) -> Any:
    """Attach from the form; back to the challenge with a notice, or the form again with each problem by its field."""
    form = await request.form()
    part = form.get("file")
    has_file = isinstance(part, UploadFile) and bool(part.filename)
    values = {name: form_text(form, name, 5000) for name in ("title", "replaces", "change_note")}
    upload = documents.DocumentUpload(
        title=values["title"], filename=part.filename if has_file else "", content=await part.read() if has_file else None,
        replaces=values["replaces"] or None, change_note=values["change_note"] or None)
    try:
        added = await documents.add_document(current(request), challenge_id, upload)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        return page(request, "challenges/documents.html", status_code=exc.status, form=values,
                    errors=errors_by_field(exc, LABELS), **await _context(request, challenge_id))
    if added.challenge_version is not None:
        notice = _("%(title)s is attached as version %(n)s of the challenge; followers and bidders are told.",
                   title=added.title, n=added.challenge_version)
    else:
        notice = _("%(title)s is attached to the draft.", title=added.title)
    return see_other(f"/challenges/{challenge_id}#documents", notice)


@get("/challenges/{challenge_id:str}/documents/{document_id:str}", opt=allow(PUBLIC), include_in_schema=False)
async def download_page(request: Request[Any, Any, Any], challenge_id: str, document_id: str) -> Response[bytes]:
    """A document's file, for whoever may read the challenge."""
    row, content = await documents.download(request.scope.get("user"), challenge_id, document_id)
    return file_response(row, content)
