"""Sealing: who may see a proposal, and which of its stages.

- The proposing team (members of the company, and members of an incubator the company consented to)
  always sees its own proposal.
- The buyer team (civil servants, procurement officers and admins of the challenge's public body)
  and the evaluators assigned to the challenge see a stage's submitted answers only once that stage's
  deadline has passed by the server's clock. Evaluators must have declared that they have no
  conflict of interest first.
- Everyone else, competitors included, is told the proposal does not exist (404, never 403).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from marketplace.accounts.services import consenting_companies
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now

BUYER_TEAM_ROLES = ("civil_servant", "procurement_officer", "buyer_admin")
TEAM, BUYER, EVALUATOR, NOBODY = "team", "buyer", "evaluator", "nobody"


@dataclass(frozen=True)
class Viewer:
    """How the principal relates to one challenge's proposals."""

    kind: str  # team / buyer / evaluator / nobody
    declared: bool = False  # evaluators: declared with no conflict
    conflict: bool = False
    blind: bool = False  # evaluators in a blind first round see no company identity


async def team_companies(principal: Principal) -> set[str]:
    """Companies whose proposals this person works on (their own, and consenting portfolio companies)."""
    own = set(principal.organisations("company_member"))
    incubators = principal.organisations("incubator_member")
    return own | set(await consenting_companies(incubators))


async def buyer_viewer(principal: Principal, challenge: dict[str, Any]) -> Viewer:
    """The buyer-side view of a challenge: buyer team, assigned evaluator, or nobody."""
    if principal.has_role(*BUYER_TEAM_ROLES, organisation_id=str(challenge["buyer"])):
        return Viewer(BUYER)
    from marketplace.evaluation.tables import Declaration, EvaluationSetup, EvaluatorAssignment

    uid = uuid.UUID(principal.user_id)
    assigned = await EvaluatorAssignment.exists().where(
        (EvaluatorAssignment.challenge == challenge["id"]) & (EvaluatorAssignment.evaluator == uid))
    if not assigned:
        return Viewer(NOBODY)
    declaration = await Declaration.select().where(
        (Declaration.challenge == challenge["id"]) & (Declaration.evaluator == uid)).first()
    setup = await EvaluationSetup.select().where(EvaluationSetup.challenge == challenge["id"]).first()
    return Viewer(EVALUATOR, declared=declaration is not None and not declaration["has_conflict"],
                  conflict=bool(declaration and declaration["has_conflict"]), blind=bool(setup and setup["blind_first_round"]))


async def viewer_for(principal: Principal, challenge: dict[str, Any], company_id: Any) -> Viewer:
    if str(company_id) in await team_companies(principal):
        return Viewer(TEAM)
    return await buyer_viewer(principal, challenge)


def unsealed(closes_at: datetime, moment: datetime | None = None) -> bool:
    """A stage's proposals open to the buyer at its deadline, by the server's clock."""
    return (moment or now()) >= as_utc(closes_at)
