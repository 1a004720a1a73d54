"""Challenge documents API (HTTP only): attach, list, download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.status_codes import HTTP_201_CREATED

from marketplace.challenges import documents, schemas
from marketplace.challenges.services import TEAM_ROLES
from marketplace.core.auth import PUBLIC, allow, current
from marketplace.core.errors import FieldError, problem
from marketplace.core.headers import content_disposition
from marketplace.core.paging import page_list
from marketplace.settings import UPLOAD_BODY_LIMIT_MB


@dataclass
class DocumentForm:
    """Multipart form: `title` (what the document is, in your words), `file`, `replaces` (the id of the
    document this is a new version of) and, on a published challenge, `change_note` (the amendment's)."""

    title: str = ""
    file: UploadFile | None = None
    replaces: str | None = None
    change_note: str | None = None


async def read_form(data: DocumentForm) -> documents.DocumentUpload:
    part = data.file if isinstance(data.file, UploadFile) else None
    return documents.DocumentUpload(
        title=data.title or "", filename=(part.filename or "") if part else "", content=await part.read() if part else None,
        replaces=data.replaces or None, change_note=data.change_note)


def file_response(row: dict, content: bytes) -> Response[bytes]:
    """The bytes as a download, with the version's SHA-256 (ETag and header) to check a copy against."""
    return Response(content, media_type=row["content_type"], headers={
        "Content-Disposition": content_disposition(row["filename"]), "X-Content-Type-Options": "nosniff",
        "ETag": f'"{row["sha256"]}"', "X-Document-SHA256": row["sha256"], "X-Document-Version": str(row["version"]),
        "Cache-Control": "private, max-age=0, must-revalidate"})


def undecodable_form(_request: Request[Any, Any, Any], _exc: UnicodeDecodeError) -> Response[Any]:
    """Litestar decodes every multipart part sent without a file name as UTF-8 text, and fails on other bytes."""
    return problem(400, "A form field is not UTF-8 text: send the file as a part with a file name.",
                   [FieldError("file", "send the file as a part with a file name")])


class ChallengeDocumentController(Controller):
    path = "/api/v1/challenges/{challenge_id:str}/documents"
    tags = ["challenges"]
    exception_handlers = {UnicodeDecodeError: undecodable_form}

    @post("/", status_code=HTTP_201_CREATED, request_max_body_size=UPLOAD_BODY_LIMIT_MB * 1024 * 1024,
          opt={**allow(*TEAM_ROLES), "content_types": ("multipart/form-data",)})
    async def attach(self, request: Request[Any, Any, Any], challenge_id: str,
                     data: Annotated[DocumentForm, Body(media_type=RequestEncodingType.MULTI_PART)]) -> schemas.ChallengeDocumentOut:
        """The buyer team attaches a document, or a new version of one (`replaces`), to a draft; on a published
        challenge it is an amendment (`change_note` required): a new public version, and followers and bidders
        are told. PDF, images, text, CSV, office documents or ZIP; at most 10 MB."""
        return await documents.add_document(current(request), challenge_id, await read_form(data))

    @get("/", opt=allow(PUBLIC))
    async def list_documents(self, request: Request[Any, Any, Any], challenge_id: str, limit: int = 20,
                             cursor: str | None = None) -> schemas.ChallengeDocumentList:
        """Every version of every document, oldest first, each with its SHA-256, size and whether it is current
        (published challenges; drafts only for their buyer team). Paged: `?limit=`, `?cursor=`."""
        found = await documents.list_documents(request.scope.get("user"), challenge_id)
        items, next_cursor = page_list(found, limit, cursor)
        return schemas.ChallengeDocumentList(items=items, next_cursor=next_cursor)

    @get("/{document_id:str}", opt=allow(PUBLIC), media_type="application/octet-stream")
    async def download(self, request: Request[Any, Any, Any], challenge_id: str, document_id: str) -> Response[bytes]:
        """The file of one version (superseded ones too); `X-Document-SHA256` and the ETag carry its hash."""
        row, content = await documents.download(request.scope.get("user"), challenge_id, document_id)
        return file_response(row, content)
