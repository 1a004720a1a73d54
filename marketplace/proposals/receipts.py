"""Submission receipts, as e-tendering platforms give them: when, which version, and a SHA-256 of what was sent.

The hash covers the answers and, for each document, its name and its own SHA-256: anyone holding the
submitted answers and files can recompute it, and no one can later claim something else was sent.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from marketplace.proposals.tables import ProposalAttachment


async def submitted_documents(proposal_id: Any, stage_key: str) -> list[dict[str, str]]:
    """The documents that go with a submission: the latest upload of each key, in key order."""
    rows = await ProposalAttachment.select(ProposalAttachment.document, ProposalAttachment.filename, ProposalAttachment.sha256).where(
        (ProposalAttachment.proposal == proposal_id) & (ProposalAttachment.stage == stage_key) & (ProposalAttachment.latest == True)  # noqa: E712
    ).order_by(ProposalAttachment.document)
    return [{"document": r["document"], "filename": r["filename"], "sha256": r["sha256"]} for r in rows]


def receipt_sha256(answers: dict[str, Any], documents: list[dict[str, str]]) -> str:
    """SHA-256 of the canonical JSON of the answers and documents (keys sorted, UTF-8, no spaces)."""
    canonical = json.dumps({"answers": answers, "documents": documents}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def send_receipt(to: str, locale: str, *, name: str, challenge: str, stage: str, version: int, submitted_at: datetime,
                       sha256: str, proposal_id: Any) -> None:
    """The receipt e-mail (inside the submission's transaction)."""
    from marketplace.mail.services import enqueue_mail

    await enqueue_mail(to, "submission_receipt", locale=locale, name=name, challenge=challenge, stage=stage, version=version,
                       submitted_at=submitted_at, sha256=sha256, link=f"/proposals/{proposal_id}#receipt-{stage}")
