"""Demo: the City of Ghent took the readiness self-check twice (progress shows) and compared two services."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from marketplace.cocreation import questionnaires
from marketplace.cocreation.tables import SelfCheck
from marketplace.core.clock import now

EARLIER = {"sponsor": 3, "mandate": 2, "reserved": 2, "sign_off": 3, "procurement": 3, "rules": 2,
           "available": 2, "baseline": 3, "people": 2, "users": 4, "learning": 3, "publish": 3}
LATER = {**EARLIER, "sponsor": 5, "mandate": 4, "reserved": 4, "sign_off": 4, "learning": 4, "publish": 5}
SERVICES = [("Parking permits for residents", {"users_suffer": 5, "many_users": 5, "number": 4, "months": 4, "not_decided": 4, "market": 5}),
            ("Reporting a broken street light", {"users_suffer": 3, "many_users": 3, "number": 2, "months": 4, "not_decided": 2, "market": 3})]


async def load(ctx: Any) -> None:
    ghent, pieter = ctx.orgs["ghent"], ctx.users["pieter"]
    if await SelfCheck.exists().where(SelfCheck.organisation == ghent.id):
        return
    moment = now()
    rows = [("readiness", "", EARLIER, moment - timedelta(days=120)), ("readiness", "", LATER, moment - timedelta(days=5))]
    rows += [("service", subject, answers, moment - timedelta(days=4)) for subject, answers in SERVICES]
    for questionnaire_id, subject, answers, at in rows:
        q = questionnaires.get(questionnaire_id)
        scores = questionnaires.score(q, answers)
        await SelfCheck.insert(SelfCheck(organisation=ghent.id, questionnaire=q.id, version=q.version, subject=subject,
                                         answers=json.dumps(answers, sort_keys=True), scores=json.dumps(scores, sort_keys=True),
                                         total=questionnaires.total(scores), answered_by=pieter.id, answered_at=at))
