"""Demo evaluation of the 112 challenge's first stage: Ines (evaluator) declared no conflict and scored
every expression of interest with justifications; the first round was blind."""

from __future__ import annotations

from typing import Any

from marketplace.evaluation.tables import Declaration, EvaluationSetup, EvaluatorAssignment, Score
from marketplace.proposals.demo import find_112_challenge
from marketplace.proposals.tables import Proposal

SCORES = {  # company key -> (relevance, novelty, team) on 0..5
    "triage_ai": (5, 4, 4),
    "civic_data": (4, 4, 4),
    "sensor_city": (4, 3, 5),
    "geo_mobility": (2, 2, 3),
    "lingua_bridge": (2, 4, 4),
}
WHY = {
    5: "Addresses the core of the problem directly.", 4: "Convincing, with a few open questions.", 3: "Reasonable but not specific.",
    2: "Only loosely related to severity triage.",
}


async def load(ctx: Any) -> None:
    challenge = await find_112_challenge(ctx)
    ines = ctx.users["ines"]
    if challenge is None or await EvaluatorAssignment.exists().where(EvaluatorAssignment.challenge == challenge["id"]):
        return
    await EvaluationSetup.insert(EvaluationSetup(challenge=challenge["id"], blind_first_round=True))
    await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=challenge["id"], evaluator=ines.id, assigned_by=ctx.users["sofie"].id))
    await Declaration.insert(Declaration(challenge=challenge["id"], evaluator=ines.id, has_conflict=False,
                                         statement="I have no link with any company that may take part."))
    for company_key, values in SCORES.items():
        proposal = await Proposal.select(Proposal.id).where(
            (Proposal.challenge == challenge["id"]) & (Proposal.company == ctx.orgs[company_key].id)).first()
        if proposal is None:
            continue
        for criterion, value in zip(("relevance", "novelty", "team"), values, strict=True):
            await Score.insert(Score(proposal=proposal["id"], stage="expression_of_interest", criterion=criterion, evaluator=ines.id,
                                     value=value, justification=WHY[value]))
