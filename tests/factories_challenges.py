"""Factories for challenges: buyer teams, drafts and published challenges built straight in the database."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime

from marketplace.accounts.tables import Organisation, User
from marketplace.challenges import rules
from marketplace.challenges.search_index import learn_words
from marketplace.challenges.services import snapshot
from marketplace.challenges.tables import Challenge, ChallengeStage, ChallengeVersion
from marketplace.core.clock import now
from marketplace.procedures import engine
from tests.factories import make_org, make_user, token_for

_seq = itertools.count(1)

COMPLETE = {
    "summary": "Callers wait too long when the 112 centres are saturated.",
    "problem": "During peaks, operators cannot tell urgent calls from the rest quickly enough.",
    "affected_users": "Callers in distress and the operators of the 112 emergency centres.",
    "tried_before": "Extra staff during storms; a callback queue.",
    "desired_outcomes": "Urgent calls are recognised within 30 seconds, even at peaks.",
    "constraints": "Personal data stays in the EU; works in Dutch, French and German.",
    "topics": ["public safety", "ai"],
    "cpv_codes": ["72212000-4"],
}


@dataclass
class BuyerTeam:
    org: Organisation
    civil_servant: User
    officer: User


async def make_buyer_team(org: Organisation | None = None) -> BuyerTeam:
    """A public body with a civil servant and a procurement officer."""
    org = org or await make_org("public_body")
    return BuyerTeam(org=org, civil_servant=await make_user("civil_servant", org=org),
                     officer=await make_user("procurement_officer", org=org))


async def make_draft(buyer: Organisation | None = None, **fields) -> Challenge:
    """A complete draft (publishable as is) unless `fields` say otherwise."""
    buyer = buyer or await make_org("public_body")
    values = {**COMPLETE, "title": f"Challenge {next(_seq)}", **fields}
    for name in ("topics", "cpv_codes"):
        values[name] = json.dumps(values[name])
    challenge = Challenge(buyer=buyer.id, **values)
    await challenge.save()
    return challenge


async def make_challenge(buyer: Organisation | None = None, *, template: str = "light", published: bool = True,
                         schedule: dict[str, datetime] | None = None, qa_closes_at: datetime | None = None,
                         **fields) -> Challenge:
    """A challenge of `buyer` (a new public body when None). Published (the default): its first stage is open
    now, stages are dated from the template's durations (or `schedule`: {stage key: closes_at})."""
    proc = engine.latest(template)
    assert proc is not None, f"no procedure template {template!r}"
    challenge = await make_draft(buyer, procedure_template=proc.id, procedure_version=proc.version, **fields)
    if not published:
        return challenge
    moment = now()
    stages = engine.schedule(proc, moment, schedule or {})
    await ChallengeStage.insert(*[
        ChallengeStage(challenge=challenge.id, key=s.key, position=i, opens_at=s.opens_at, closes_at=s.closes_at,
                       status="open" if i == 0 else "pending")
        for i, s in enumerate(stages)
    ])
    await Challenge.update({
        Challenge.status: "published", Challenge.published_at: moment, Challenge.publish_at: moment,
        Challenge.current_stage: stages[0].key, Challenge.qa_closes_at: qa_closes_at or rules.default_qa_deadline(stages),
    }).where(Challenge.id == challenge.id)
    row = await Challenge.select().where(Challenge.id == challenge.id).first()
    await learn_words(row)  # as publication does: the catalogue may suggest its words
    await ChallengeVersion.insert(ChallengeVersion(challenge=challenge.id, version=1, snapshot=json.dumps(snapshot(row)),
                                                   change_note="Published."))
    return await Challenge.objects().where(Challenge.id == challenge.id).first()


async def publish_through_api(client, team: BuyerTeam, **fields) -> Challenge:
    """A complete draft of `team`'s body, published by its procurement officer through the API (subscribers are told)."""
    draft = await make_draft(team.org, **fields)
    response = await client.post(f"/api/v1/challenges/{draft.id}/publish", headers=await token_for(team.officer))
    assert response.status_code == 200, response.text
    return draft
