"""Documents a challenge carries (annexes, data samples, a regulation), versioned and hashed.

The buyer team attaches them to a draft, or to a published challenge through an amendment (a new
public version with a change note; followers and bidders are told, as for any amendment). A new
version of a document supersedes the previous one, which stays listed and downloadable. Whoever may
read the challenge may read its documents. The bytes are kept by the documents domain, once per
SHA-256 (`documents.services.store_document` / `read_bytes`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketplace.challenges import schemas
from marketplace.challenges.services import parse_id, team_row, visible_row
from marketplace.challenges.tables import ChallengeDocument
from marketplace.core.auth import Principal
from marketplace.core.clock import now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound
from marketplace.core.i18n import N_
from marketplace.documents.services import get_document, read_bytes, store_document
from marketplace.experiments import storage
from marketplace.transparency.audit import record

KIND = "challenge_document"  # the documents domain's kind (and subject type) for these bytes
LANGUAGE = "und"  # an uploaded file has no language of ours (ISO 639-2 "undetermined")
MAX_BYTES = storage.MAX_FILE_BYTES  # the same types and limits as every other upload
TYPES = ", ".join(sorted({ext.lstrip(".").upper() for ext in storage.ALLOWED} - {"JPEG"}))
TITLE_LENGTH = 200


@dataclass
class DocumentUpload:
    """What the buyer team sends: a title in their words, the file, which document it replaces (any
    version's id, optional) and, on a published challenge, the amendment's change note."""

    title: str
    filename: str
    content: bytes | None
    replaces: str | None = None
    change_note: str | None = None


def document_out(row: dict) -> schemas.ChallengeDocumentOut:
    return schemas.ChallengeDocumentOut(
        id=str(row["id"]), document_id=str(row["series"]), challenge_id=str(row["challenge"]), version=row["version"],
        title=row["title"], filename=row["filename"], content_type=row["content_type"], size=row["size_bytes"],
        sha256=row["sha256"], uploaded_at=rfc3339(row["uploaded_at"]) or "", current=row["superseded_at"] is None,
        superseded_at=rfc3339(row["superseded_at"]), challenge_version=row["challenge_version"],
        url=f"/api/v1/challenges/{row['challenge']}/documents/{row['id']}",
    )


async def rows_of(challenge_id: Any) -> list[dict]:
    """Every version of every document of a challenge, oldest upload first."""
    return await ChallengeDocument.select().where(ChallengeDocument.challenge == challenge_id).order_by(
        ChallengeDocument.uploaded_at).order_by(ChallengeDocument.version)


def grouped(rows: list[dict]) -> list[dict]:
    """One entry per document, in the order they were first attached: its current version (`current`) and
    the versions it superseded, newest first (`earlier`)."""
    series: dict[Any, list[dict]] = {}
    for r in rows:
        series.setdefault(r["series"], []).append(r)
    out = []
    for versions in series.values():
        versions.sort(key=lambda r: r["version"], reverse=True)
        out.append({"current": versions[0], "earlier": versions[1:]})
    return out


async def list_documents(principal: Principal | None, challenge_id: Any) -> list[schemas.ChallengeDocumentOut]:
    """Every version of the documents of a challenge the caller may see (drafts: the buyer team only)."""
    row = await visible_row(principal, challenge_id)
    return [document_out(r) for r in await rows_of(row["id"])]


async def download(principal: Principal | None, challenge_id: Any, document_id: Any) -> tuple[dict, bytes]:
    """One version's row and bytes (any version, superseded ones too), for whoever may see the challenge."""
    row = await visible_row(principal, challenge_id)
    doc = await ChallengeDocument.select().where(
        (ChallengeDocument.id == parse_id(document_id, "document")) & (ChallengeDocument.challenge == row["id"])).first()
    if doc is None:
        raise NotFound("document")
    return doc, await read_bytes(await get_document(doc["stored"]))


def check_file(filename: str, content: bytes | None) -> tuple[list[FieldError], storage.CheckedFile | None]:
    """The file's type, size and content signature, each problem named `file` (in words the pages translate)."""
    if content is None or not filename:
        return [FieldError("file", N_("choose a file to upload"))], None
    name = storage.safe_filename(filename)
    if Path(name).suffix.lower() not in storage.ALLOWED:
        return [FieldError("file", N_("%(name)s: this type is not accepted (use %(types)s)"), {"name": name, "types": TYPES})], None
    if not content:
        return [FieldError("file", N_("%(name)s: the file is empty"), {"name": name})], None
    if len(content) > MAX_BYTES:
        return [FieldError("file", N_("%(name)s: larger than %(mb)s MB"), {"name": name, "mb": MAX_BYTES // (1024 * 1024)})], None
    try:
        return [], storage.check([(name, content)], "file")[0]
    except Invalid:
        return [FieldError("file", N_("%(name)s: the content does not match its type"), {"name": name})], None


async def _replaced(challenge_id: Any, replaces: str) -> dict | None:
    """The current version of the document that `replaces` (the id of any of its versions, or the document's id) names."""
    try:
        wanted = uuid.UUID(replaces)
    except ValueError:
        return None
    named = await ChallengeDocument.select(ChallengeDocument.series).where(
        (ChallengeDocument.challenge == challenge_id)
        & ((ChallengeDocument.id == wanted) | (ChallengeDocument.series == wanted))).first()
    if named is None:
        return None
    return await ChallengeDocument.select().where(
        (ChallengeDocument.series == named["series"]) & ChallengeDocument.superseded_at.is_null()).first()


async def add_document(principal: Principal, challenge_id: Any, upload: DocumentUpload) -> schemas.ChallengeDocumentOut:
    """The buyer team attaches a document (or a new version of one) to a draft, or to a published challenge
    through an amendment. 422 names each wrong field; 409 when the challenge takes no documents now."""
    row = await team_row(principal, challenge_id)
    status = row["status"]
    if status == "scheduled":
        raise Conflict("This challenge is approved and waits for publication: edit it back to a draft to attach documents, "
                       "or amend it once it is published.")
    if status not in ("draft", "published"):
        raise Conflict(f"A challenge that is {status} takes no more documents.")
    errors: list[FieldError] = []
    title = (upload.title or "").strip()
    if not title:
        errors.append(FieldError("title", N_("is required: say in your own words what the document is")))
    elif len(title) > TITLE_LENGTH:
        errors.append(FieldError("title", N_("is longer than %(n)s characters"), {"n": TITLE_LENGTH}))
    note = (upload.change_note or "").strip()
    if status == "published" and not note:
        errors.append(FieldError("change_note", N_("is required to amend a published challenge: say what changed and why")))
    elif status == "draft" and note:
        errors.append(FieldError("change_note", N_("is only for amendments of a published challenge")))
    previous = None
    if upload.replaces:
        previous = await _replaced(row["id"], upload.replaces)
        if previous is None:
            errors.append(FieldError("replaces", N_("is not a document of this challenge")))
    file_errors, checked = check_file(upload.filename, upload.content)
    errors += file_errors
    if previous is not None and checked is not None and checked.sha256 == previous["sha256"]:
        errors.append(FieldError("file", N_("is the same file as the current version")))
    if errors:
        raise Invalid(errors)
    assert checked is not None
    moment = now()
    series = previous["series"] if previous else uuid.uuid4()
    async with transaction():
        challenge_version = None
        if status == "published":
            from marketplace.challenges.amendments import amend

            challenge_version = (await amend(principal, row, schemas.ChallengePatch(change_note=note))).version
        if previous is not None:
            done = await ChallengeDocument.update({ChallengeDocument.superseded_at: moment}).where(
                (ChallengeDocument.id == previous["id"]) & ChallengeDocument.superseded_at.is_null()).returning(ChallengeDocument.id)
            if not done:
                raise Conflict("Another version of this document was attached meanwhile: reload and try again.")
        stored = await store_document(KIND, KIND, series, LANGUAGE, checked.content, media_type=checked.content_type)
        doc = ChallengeDocument(
            challenge=row["id"], series=series, version=previous["version"] + 1 if previous else 1, title=title,
            filename=checked.filename, content_type=checked.content_type, size_bytes=len(checked.content),
            sha256=checked.sha256, stored=stored.id, challenge_version=challenge_version,
            uploaded_by=uuid.UUID(principal.user_id), uploaded_at=moment)
        try:
            await doc.save()
        except Exception as exc:
            if is_integrity_error(exc):
                raise Conflict("Another version of this document was attached meanwhile: reload and try again.") from None
            raise
        await record(principal, "challenge.document_replaced" if previous else "challenge.document_added", "challenge",
                     row["id"], {"document": str(series), "version": doc.version, "title": title, "sha256": checked.sha256,
                                 "size": len(checked.content), "challenge_version": challenge_version},
                     before={"version": previous["version"], "sha256": previous["sha256"]} if previous else None,
                     after={"version": doc.version, "sha256": checked.sha256})
    return document_out(doc.to_dict())
