"""Store rendered documents as evidence (SHA-256, never changed) and serve them from storage."""

from __future__ import annotations

import hashlib
import logging

from marketplace import files
from marketplace.core.db import engine, is_integrity_error
from marketplace.core.errors import NotFound
from marketplace.documents.rendering import render_pdf_async
from marketplace.documents.tables import Document
from marketplace.transparency.audit import record

log = logging.getLogger("marketplace.documents")


FOLDER = "documents"  # in the file storage (marketplace.files), one file per SHA-256


async def _write_once(sha256: str, data: bytes) -> str:
    """Store the bytes under their hash (content-addressed: an existing file is never rewritten)."""
    relative = f"{sha256[:2]}/{sha256}.pdf"
    await files.write_once(FOLDER, relative, data)
    return relative


async def latest_document(kind: str, subject_type: str, subject_id: object, language: str) -> Document | None:
    """The newest version of a document, or None."""
    return await Document.objects().where(
        (Document.kind == kind) & (Document.subject_type == subject_type)
        & (Document.subject_id == str(subject_id)) & (Document.language == language)
    ).order_by(Document.version, ascending=False).first()


async def store_document(kind: str, subject_type: str, subject_id: object, language: str, pdf_bytes: bytes,
                         media_type: str = "application/pdf") -> Document:
    """Keep `pdf_bytes` as the newest version of the document; unchanged bytes keep the current version.

    Rows are only inserted, never updated: a changed document becomes version N+1. Uploaded files that are
    kept as evidence (a challenge's annexes) come through here too, with their `media_type`.
    """
    sha256 = hashlib.sha256(pdf_bytes).hexdigest()
    for _attempt in range(3):
        current = await latest_document(kind, subject_type, subject_id, language)
        if current is not None and current.sha256 == sha256:
            return current
        relative = await _write_once(sha256, pdf_bytes)
        document = Document(
            kind=kind, version=(current.version + 1) if current else 1, subject_type=subject_type,
            subject_id=str(subject_id), language=language, sha256=sha256, size_bytes=len(pdf_bytes), path=relative,
            media_type=media_type,
        )
        # Inside an outer transaction a failed insert would abort it (PostgreSQL): a savepoint keeps it usable.
        outer = engine().current_transaction.get()
        savepoint = await outer.savepoint() if outer is not None else None
        try:
            await document.save()
        except Exception as exc:  # two renders raced for the same version: re-read and retry
            if savepoint is not None:
                await savepoint.rollback_to()
            if not is_integrity_error(exc):
                raise
            continue
        if savepoint is not None:
            await savepoint.release()
        await record("system", "document.stored", subject_type, subject_id, {"kind": kind, "version": document.version,
                     "language": language, "sha256": sha256})
        return document
    raise RuntimeError(f"could not store {kind} {subject_type}/{subject_id}: version kept changing")


async def render_and_store(kind: str, subject_type: str, subject_id: object, language: str, template: str,
                           **context: object) -> Document:
    """Render the template and store it (a new version only if the bytes changed)."""
    pdf = await render_pdf_async(template, language, **context)
    return await store_document(kind, subject_type, subject_id, language, pdf)


async def get_or_render(kind: str, subject_type: str, subject_id: object, language: str, template: str,
                        **context: object) -> Document:
    """The stored document if there is one (served from storage, no rendering), else render and store it."""
    existing = await latest_document(kind, subject_type, subject_id, language)
    if existing is not None:
        return existing
    return await render_and_store(kind, subject_type, subject_id, language, template, **context)


async def get_document(document_id: object) -> Document:
    document = await Document.objects().where(Document.id == document_id).first()
    if document is None:
        raise NotFound("document")
    return document


async def read_bytes(document: Document) -> bytes:
    """The stored bytes, checked against the recorded SHA-256 (evidence must not drift)."""
    data = await files.read(FOLDER, document.path)
    if hashlib.sha256(data).hexdigest() != document.sha256:
        log.error("document %s: stored bytes do not match their SHA-256", document.id)
        raise RuntimeError(f"document {document.id} is corrupted in storage")
    return data


def filename(document: Document, stem: str | None = None) -> str:
    return f"{stem or document.kind}-v{document.version}-{document.language}.pdf"
