"""Stage documents: the files a procedure template declares per stage (`[[stages.documents]]`).

The proposing team uploads them while the stage is open (checked by extension, content signature and
size); a new upload of a key becomes the `latest` one and earlier rows are kept. They are read
through the same sealing rules as the proposal's answers; a stage with a required document missing
cannot be submitted.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_201_CREATED

from marketplace.core.auth import Principal, allow, current
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.errors import DomainError, FieldError, NotFound, invalid
from marketplace.core.i18n import gettext as _
from marketplace.experiments import storage
from marketplace.experiments.storage import safe_filename
from marketplace.procedures.engine import MIME_TYPES, DocumentSpec, StageSpec
from marketplace.proposals import services
from marketplace.proposals.controllers import READERS, TEAM_ROLES
from marketplace.proposals.tables import ProposalAttachment
from marketplace.settings import UPLOAD_BODY_LIMIT_MB
from marketplace.transparency.audit import record

FOLDER = "proposals"  # in the file storage (marketplace.files)
_ZIP = b"PK\x03\x04"
MAGIC: dict[str, bytes] = {
    "pdf": b"%PDF-", "docx": _ZIP, "xlsx": _ZIP, "pptx": _ZIP, "odt": _ZIP,
    "png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff",
}


def _type_of(filename: str) -> str:
    ext = Path(filename).suffix.lower().lstrip(".")
    return "jpg" if ext == "jpeg" else ext


def check(doc: DocumentSpec, filename: str, content: bytes) -> tuple[str, str]:
    """(safe file name, content type), or 422 naming `documents.<key>`."""
    field, name = f"documents.{doc.key}", safe_filename(filename)
    kind = _type_of(name)
    accepted = ", ".join(t.upper() for t in doc.types)
    if kind not in doc.types:
        raise invalid(field, f"{name}: this type is not accepted (use {accepted})")
    if not content:
        raise invalid(field, f"{name}: the file is empty")
    if len(content) > doc.max_mb * 1024 * 1024:
        raise invalid(field, f"{name}: larger than {doc.max_mb} MB")
    magic = MAGIC.get(kind)
    if magic is not None and not content.startswith(magic):
        raise invalid(field, f"{name}: the content is not a {kind.upper()} file")
    return name, MIME_TYPES.get(kind, "application/octet-stream")


def out(row: dict[str, Any], proposal_id: Any) -> dict[str, Any]:
    return {"document": row["document"], "stage": row["stage"], "filename": row["filename"], "content_type": row["content_type"],
            "size": row["size"], "sha256": row["sha256"], "uploaded_at": rfc3339(row["uploaded_at"]),
            "url": f"/api/v1/proposals/{proposal_id}/stages/{row['stage']}/documents/{row['document']}"}


async def upload(principal: Principal, proposal_id: Any, stage_key: str, doc_key: str, filename: str, content: bytes) -> dict[str, Any]:
    """The team uploads a stage's document while the stage is open (404 for others, 409 after the deadline)."""
    proposal, challenge, _stage, _copy = await services._check_writable(principal, proposal_id, stage_key, "upload_document")
    spec = services.template_of(challenge).stage(stage_key)
    doc = next((d for d in spec.documents if d.key == doc_key), None)
    if doc is None:
        raise invalid(f"documents.{doc_key}", "is not a document of this stage")
    name, content_type = check(doc, filename, content)
    stored = await storage.store(content, FOLDER)
    row = ProposalAttachment(proposal=proposal["id"], stage=stage_key, document=doc_key, filename=name, content_type=content_type,
                             size=len(content), sha256=hashlib.sha256(content).hexdigest(), stored_name=stored, latest=True,
                             uploaded_by=uuid.UUID(principal.user_id), uploaded_at=now())
    async with transaction():
        await ProposalAttachment.update({ProposalAttachment.latest: False}).where(
            (ProposalAttachment.proposal == proposal["id"]) & (ProposalAttachment.stage == stage_key)
            & (ProposalAttachment.document == doc_key))
        await row.save()
        await record(principal, "attachment.uploaded", "proposal", proposal["id"], {  # metadata only: the file stays sealed
            "stage": stage_key, "document": doc_key, "size": len(content), "sha256": row.sha256})
    return out(row.to_dict(), proposal["id"])


async def latest(proposal_id: Any, stage_key: str) -> dict[str, dict[str, Any]]:
    """The latest upload of each document key of one stage."""
    rows = await ProposalAttachment.select().where(
        (ProposalAttachment.proposal == proposal_id) & (ProposalAttachment.stage == stage_key) & (ProposalAttachment.latest == True))  # noqa: E712
    return {r["document"]: r for r in rows}


async def missing_required(proposal_id: Any, spec: StageSpec, answers: dict[str, Any] | None = None) -> list[FieldError]:
    """Submission hook: each required document not uploaded, named `documents.<key>`; and, when the stage says
    `require_one_of` (e.g. photos or a link), none of them given, named after the first."""
    required = [d for d in spec.documents if d.required]
    if not required and not spec.require_one_of:
        return []
    have = await latest(proposal_id, spec.key)
    errors = [FieldError(f"documents.{d.key}", "is required") for d in required if d.key not in have]
    if spec.require_one_of:
        given = {k for k, v in (answers or {}).items() if v not in (None, "", [])} | set(have)
        if not given & set(spec.require_one_of):
            first = spec.require_one_of[0]
            name = first if spec.field(first) else f"documents.{first}"
            errors.append(FieldError(name, "give at least one of: %(keys)s", {"keys": ", ".join(spec.require_one_of)}))
    return errors


async def download(principal: Principal, proposal_id: Any, stage_key: str, doc_key: str) -> tuple[dict[str, Any], AsyncIterator[bytes]]:
    """A stage document, under the proposal's sealing rules (404 when sealed from this person)."""
    proposal, _challenge, _viewer, keys = await services.proposal_view(principal, proposal_id)
    if stage_key not in keys:
        raise NotFound("document")
    row = (await latest(proposal["id"], stage_key)).get(doc_key)
    if row is None:
        raise NotFound("document")
    try:
        return row, await storage.read(row["stored_name"], FOLDER)
    except FileNotFoundError:
        raise NotFound("document") from None


class ProposalDocumentController(Controller):
    path = "/api/v1/proposals/{proposal_id:str}/stages/{stage:str}/documents/{document:str}"
    tags = ["proposals"]

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=UPLOAD_BODY_LIMIT_MB * 1024 * 1024,
          opt={**allow(*TEAM_ROLES), "content_types": ("multipart/form-data",)})
    async def upload_document(self, request: Request[Any, Any, Any], proposal_id: str, stage: str, document: str) -> dict[str, Any]:
        """Multipart `file`: the stage's declared document (types and size from the procedure template)."""
        form = await request.form()
        part = form.get("file")
        if not isinstance(part, UploadFile) or not part.filename:
            raise invalid(f"documents.{document}", "choose a file to upload")
        return await upload(current(request), proposal_id, stage, document, part.filename, await part.read())

    @get("/", opt=allow(*READERS))
    async def download_document(self, request: Request[Any, Any, Any], proposal_id: str, stage: str, document: str) -> Stream:
        """The latest upload of a stage document (team; buyer team and assigned evaluators after the deadline)."""
        row, content = await download(current(request), proposal_id, stage, document)
        return storage.download(row, content, row["size"])


@post("/proposals/{proposal_id:str}/stages/{stage:str}/documents/{document:str}", opt=allow(*TEAM_ROLES), include_in_schema=False,
      request_max_body_size=UPLOAD_BODY_LIMIT_MB * 1024 * 1024)
async def upload_page(request: Request[Any, Any, Any], proposal_id: str, stage: str, document: str) -> Redirect:
    """The stage form's upload button: back to the proposal with a notice."""
    from marketplace.web.pages import errors_by_field, see_other

    form = await request.form()
    part = form.get("file")
    try:
        if not isinstance(part, UploadFile) or not part.filename:
            raise invalid(f"documents.{document}", _("choose a file to upload"))
        row = await upload(current(request), proposal_id, stage, document, part.filename, await part.read())
    except DomainError as exc:
        if exc.status == 404:
            raise
        reason = "; ".join(errors_by_field(exc).values()) or _(exc.detail)
        return see_other(f"/proposals/{proposal_id}", _("The file was not uploaded: %(reason)s", reason=reason), error=True)
    return see_other(f"/proposals/{proposal_id}", _("Uploaded %(name)s.", name=row["filename"]))
