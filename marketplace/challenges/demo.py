"""Demo challenges: the 112 emergency-call triage challenge (GovBuys Innovation's own example) with answered
questions and a co-sponsor, City of Ghent challenges, a draft and one scheduled for later."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from marketplace.challenges import rules, services
from marketplace.challenges.tables import Challenge, ChallengeStage, CoSponsor, Follow, Question, Subscription
from marketplace.core.clock import now
from marketplace.procedures import engine

CHALLENGES: list[dict[str, Any]] = [
    {
        "key": "triage_112", "buyer": "fps_interior", "author": "sofie", "approver": "marc", "template": "light",
        "title": "Prioritise 112 emergency calls by severity",
        "summary": "At peak times our 112 emergency centres cannot tell quickly enough which callers need help first. "
                   "We look for ways to understand the caller's situation early and put the most severe calls at the front.",
        "problem": "When a storm, a large accident or a heatwave floods the 112 centres, every caller waits in the same queue. "
                   "Operators only learn how severe a situation is once they pick up, so a cardiac arrest can wait behind a "
                   "question about a fallen tree. Callers who are panicking, injured or do not speak Dutch, French or German "
                   "are the hardest to assess, and the first minutes matter most for them.",
        "affected_users": "People calling 112 in distress, the call-takers of the ten provincial emergency centres, and the "
                          "ambulance, fire and police services that receive the dispatched calls.",
        "tried_before": "Extra staff on standby during announced storms; a recorded message asking non-urgent callers to hang up "
                        "and call the non-emergency numbers. Both helped a little; neither tells us which waiting call is the worst.",
        "desired_outcomes": "Life-threatening calls are recognised within 30 seconds even when every line is busy; fewer "
                            "abandoned calls at peaks; call-takers trust the prioritisation and can always override it.",
        "constraints": "Calls and personal data stay within the EU and are never used to train models outside our control. "
                       "Works in Dutch, French and German, and degrades gracefully for other languages. Call-takers decide; "
                       "the system only suggests.",
        "topics": ["public safety", "emergency services", "artificial intelligence", "speech"],
        "cpv_codes": ["72212000-4", "72316000-3", "32500000-8"],
        "budget_cap_cents": 3_000_000, "max_duration_days": 90, "started_days_ago": 4,
        "questions": [
            # asker, question, answer, asked (hours ago), answered (hours ago)
            ("lena", "Can we test with recorded calls from past peaks, or only with synthetic calls?",
             "Anonymised recordings from two past storms will be available in our secure environment during the experiment; "
             "they cannot leave it. Synthetic calls are welcome for the expression of interest.", 500, 476),
            ("julie", "Must the triage understand callers who speak none of the national languages?",
             "It must not make their situation worse. Recognising the language and routing the call to an interpreter "
             "quickly already counts as a good outcome.", 480, 432),
            ("amina", "May an incubator submit on behalf of a start-up in its portfolio?",
             "Yes, with the company's consent recorded on the platform. The company stays the contracting party.", 460, 448),
        ],
        "co_sponsor": ("ghent", "pieter", "Ghent's non-emergency line has the same peaks during city events; we want to learn from this experiment."),
        "documents": [("Calls per hour during the storm of 18 February 2022 (counts only)", "calls-per-hour-2022-02-18.csv",
                       "hour,calls,abandoned\n06:00,412,31\n07:00,655,58\n08:00,903,122\n09:00,1187,204\n10:00,968,141\n")],
    },
    {
        "key": "bike_parking", "buyer": "ghent", "author": "pieter", "approver": "pieter", "template": "open-call",
        "title": "Know where bike racks are free at Ghent's stations",
        "summary": "Commuters circle around Gent-Sint-Pieters looking for a free rack while other racks stand empty. "
                   "We want to know and show occupancy in real time.",
        "problem": "Ghent's station bike parkings hold more than 17,000 bikes but nobody knows which floors or racks are "
                   "free at a given moment. Cyclists lose time, park in the street, and the city plans new racks on gut feeling.",
        "affected_users": "Daily cyclists and train commuters; the city's mobility company that manages the parkings.",
        "tried_before": "Manual counts twice a year; a pilot with cameras that was stopped over privacy concerns.",
        "desired_outcomes": "Occupancy per floor known within 5 minutes and shown at the entrances and in an open data feed.",
        "constraints": "No cameras that can identify people; sensors must survive vandalism and cleaning.",
        "topics": ["mobility", "smart city", "open data"],
        "cpv_codes": ["34926000-4", "72300000-8"],
        "budget_cap_cents": 2_500_000, "max_duration_days": 120, "started_days_ago": 2,
        "questions": [
            ("thomas", "Is there power and network in the parkings?",
             "Power is available on every floor; there is no Wi-Fi, but the city can provide a LoRaWAN gateway.", 40, 4),
        ],
    },
    {
        "key": "multilingual_counter", "buyer": "ghent", "author": "pieter", "approver": "pieter", "template": "two-phase",
        "title": "A counter for residents who speak none of our languages",
        "summary": "Newcomers at the city's service counters often share no language with the staff. Help us understand and "
                   "serve them on the spot.",
        "problem": "Every week hundreds of residents come to the civil affairs counters without a common language with the "
                   "staff. Appointments take three times longer, are postponed for an interpreter, or end in mistakes.",
        "affected_users": "Newcomers and their families; counter staff of the civil affairs department.",
        "tried_before": "Telephone interpreters (slow to reach, expensive for short questions); translated leaflets.",
        "desired_outcomes": "Simple requests handled in one visit, whatever the resident's language; staff confident the "
                            "message came across.",
        "constraints": "Conversations may contain personal data; nothing is stored beyond the visit.",
        "topics": ["public services", "languages", "inclusion"],
        "cpv_codes": ["79540000-1", "79530000-8"],
        "budget_cap_cents": 3_000_000, "max_duration_days": 180, "started_days_ago": 1,
        "questions": [],
    },
]

DRAFT = {
    "buyer": "fps_interior", "author": "sofie", "title": "Forecast call peaks at the 112 centres",
    "summary": "Know a day ahead when the emergency centres will be flooded.", "topics": ["public safety", "forecasting"],
}

SCHEDULED = {
    "buyer": "ghent", "author": "pieter", "approver": "pieter", "template": "light", "publish_in_days": 5,
    "title": "Fewer missed waste collections in narrow streets",
    "summary": "Collection trucks cannot enter some medieval streets when cars are parked badly.",
    "problem": "In parts of the old town collection trucks regularly cannot pass and whole streets miss their collection.",
    "affected_users": "Residents of the old town; the city's waste collection crews.",
    "desired_outcomes": "Half as many missed collections within a year.",
    "topics": ["waste", "mobility"], "cpv_codes": ["73000000-2"],
}


async def _existing(buyer: Any, title: str) -> Challenge | None:
    return await Challenge.objects().where((Challenge.buyer == buyer) & (Challenge.title == title)).first()


async def _publish(spec: dict[str, Any], ctx: Any) -> Challenge:
    buyer = ctx.orgs[spec["buyer"]]
    template = engine.latest(spec["template"])
    assert template is not None
    fields = {k: spec.get(k, "") for k in ("title", "summary", "problem", "affected_users", "tried_before", "desired_outcomes", "constraints")}
    challenge = Challenge(buyer=buyer.id, created_by=ctx.users[spec["author"]].id, approved_by=ctx.users[spec["approver"]].id,
                          topics=json.dumps(spec["topics"]), cpv_codes=json.dumps(spec["cpv_codes"]),
                          budget_cap_cents=spec.get("budget_cap_cents", 3_000_000), max_duration_days=spec.get("max_duration_days", 90),
                          procedure_template=template.id, procedure_version=template.version, status="scheduled", **fields)
    start = now() + timedelta(days=spec.get("publish_in_days", 0)) - timedelta(days=spec.get("started_days_ago", 0))
    stages = engine.schedule(template, start)
    challenge.publish_at = start
    challenge.qa_closes_at = rules.default_qa_deadline(stages)
    await challenge.save()
    await ChallengeStage.insert(*[ChallengeStage(challenge=challenge.id, key=s.key, position=i, opens_at=s.opens_at, closes_at=s.closes_at)
                                  for i, s in enumerate(stages)])
    if not spec.get("publish_in_days"):
        await services.go_live(challenge.id, ctx.users[spec["approver"]].id)
    return challenge


async def load(ctx: Any) -> None:
    """Idempotent: a challenge already there (same buyer and title) is left as it is."""
    challenges = ctx.challenges
    thomas = ctx.users["thomas"]
    if not await Subscription.exists().where(Subscription.user == thomas.id):
        await Subscription.insert(Subscription(user=thomas.id, topics=json.dumps(["mobility"]), cpv_prefixes=json.dumps(["349"]),
                                               keywords=json.dumps(["bike"])))
    for spec in CHALLENGES:
        challenge = await _existing(ctx.orgs[spec["buyer"]].id, spec["title"])
        if challenge is None:
            challenge = await _publish(spec, ctx)
            for asker, text, answer, asked_hours_ago, answered_hours_ago in spec["questions"]:
                user = ctx.users[asker]
                await Question.insert(Question(challenge=challenge.id, asked_by=user.id, text=text, answer=answer,
                                               asked_at=now() - timedelta(hours=asked_hours_ago),
                                               answered_by=ctx.users[spec["author"]].id, answered_at=now() - timedelta(hours=answered_hours_ago),
                                               asker_organisation=await _org_of(ctx, asker)))
            if "co_sponsor" in spec:
                org_key, user_key, statement = spec["co_sponsor"]
                await CoSponsor.insert(CoSponsor(challenge=challenge.id, organisation=ctx.orgs[org_key].id,
                                                 declared_by=ctx.users[user_key].id, statement=statement))
            for title, filename, text in spec.get("documents", []):
                await _attach(challenge, ctx.users[spec["author"]].id, title, filename, text.encode())
            for follower in ("lena", "amina"):
                await Follow.insert(Follow(challenge=challenge.id, user=ctx.users[follower].id))
        challenges[spec["key"]] = challenge
    if await _existing(ctx.orgs[SCHEDULED["buyer"]].id, SCHEDULED["title"]) is None:
        await _publish(SCHEDULED, ctx)
    if await _existing(ctx.orgs[DRAFT["buyer"]].id, DRAFT["title"]) is None:
        await Challenge.insert(Challenge(buyer=ctx.orgs[DRAFT["buyer"]].id, created_by=ctx.users[DRAFT["author"]].id, title=DRAFT["title"],
                                         summary=DRAFT["summary"], topics=json.dumps(DRAFT["topics"])))


async def _attach(challenge: Challenge, author: Any, title: str, filename: str, content: bytes) -> None:
    """A document attached before publication, its bytes kept by the documents domain as uploads are."""
    import hashlib
    import uuid

    from marketplace.challenges.documents import KIND, LANGUAGE
    from marketplace.challenges.tables import ChallengeDocument
    from marketplace.documents.services import store_document

    series, content_type = uuid.uuid4(), "text/csv; charset=utf-8"
    stored = await store_document(KIND, KIND, series, LANGUAGE, content, media_type=content_type)
    await ChallengeDocument.insert(ChallengeDocument(
        challenge=challenge.id, series=series, title=title, filename=filename, content_type=content_type, size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), stored=stored.id, uploaded_by=author, uploaded_at=challenge.publish_at))


async def _org_of(ctx: Any, user_key: str) -> Any:
    from marketplace.demo import PEOPLE

    org_key = next(p[3] for p in PEOPLE if p[0] == user_key)
    return ctx.orgs[org_key].id if org_key else None
