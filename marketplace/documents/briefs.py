"""The public challenge brief as a PDF: the problem, the test, the stages, the documents the challenge carries
(with their SHA-256) and the answered questions. Re-rendered when the challenge changes (a new version, which
a document attached by amendment also makes) or a question is answered."""

from __future__ import annotations

import json
from datetime import timedelta

from marketplace.accounts.services import parse_id
from marketplace.accounts.tables import Organisation
from marketplace.challenges.dialogue import answered_questions
from marketplace.challenges.documents import rows_of
from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import as_utc
from marketplace.core.errors import NotFound
from marketplace.core.i18n import LOCALES
from marketplace.documents.services import latest_document, render_and_store
from marketplace.documents.tables import Document

# A brief stored just after a change may have been rendered from what was read before it (an answer published
# while the brief rendered): within this margin it is rendered again, which keeps its version if nothing changed.
RENDER_RACE = timedelta(seconds=10)
PUBLIC_STATUSES = (Challenge.Status.published, Challenge.Status.awarded, Challenge.Status.closed,
                   Challenge.Status.archived)


async def challenge_brief(challenge_id: str, language: str) -> Document:
    """The brief of a published challenge in `language` (404 for drafts and unknown ids)."""
    challenge = await Challenge.objects().where(
        (Challenge.id == parse_id(challenge_id, "challenge")) & Challenge.status.is_in([s.value for s in PUBLIC_STATUSES])
    ).first()
    if challenge is None:
        raise NotFound("challenge")
    language = language if language in LOCALES else "en"
    stored = await latest_document("challenge_brief", "challenge", challenge.id, language)
    questions = await answered_questions(challenge.id)
    changed = max([as_utc(challenge.updated_at), *(as_utc(q["answered_at"]) for q in questions)])
    if stored is not None and as_utc(stored.created_at) >= changed + RENDER_RACE:
        return stored
    buyer = await Organisation.objects().where(Organisation.id == challenge.buyer).first()
    stages = await ChallengeStage.objects().where(ChallengeStage.challenge == challenge.id).order_by(ChallengeStage.position)
    return await render_and_store(
        "challenge_brief", "challenge", challenge.id, language, "challenge_brief.html",
        reference=challenge.title[:80], challenge=challenge, buyer=buyer, stages=stages,
        topics=json.loads(challenge.topics or "[]"), cpv_codes=json.loads(challenge.cpv_codes or "[]"),
        documents=await rows_of(challenge.id), questions=questions,
    )
