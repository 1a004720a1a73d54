"""Evaluation API (HTTP only: parse, authorise, call one service, answer)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.core.auth import allow, current
from marketplace.evaluation import jury, schemas, services
from marketplace.proposals.access import BUYER_TEAM_ROLES
from marketplace.proposals.services import get_challenge

BUYER_AND_EVALUATORS = (*BUYER_TEAM_ROLES, "evaluator")


class EvaluationController(Controller):
    path = "/api/v1"
    tags = ["evaluation"]

    @get("/challenges/{challenge_id:str}/criteria", opt=allow(*BUYER_AND_EVALUATORS))
    async def criteria(self, request: Request[Any, Any, Any], challenge_id: str, stage: str | None = None) -> dict[str, list[schemas.CriterionOut]]:
        """The weighted criteria of every stage (or `?stage=`)."""
        principal = current(request)
        challenge = await get_challenge(challenge_id)
        if not principal.has_role(*BUYER_TEAM_ROLES, organisation_id=str(challenge["buyer"])):
            if str(principal.user_id) not in await services.evaluators(challenge):
                from marketplace.core.errors import NotFound

                raise NotFound("challenge")
        items = await services.all_criteria(challenge)
        return {"items": [c for c in items if stage is None or c.stage == stage]}

    @put("/challenges/{challenge_id:str}/criteria", opt=allow("civil_servant"), status_code=HTTP_200_OK)
    async def replace_criteria(self, request: Request[Any, Any, Any], challenge_id: str, data: list[schemas.CriterionIn]) -> dict[str, list[schemas.CriterionOut]]:
        """Set the criteria of the stages named (each keeps `team`, the team and its motivation)."""
        return {"items": await services.replace_criteria(current(request), challenge_id, data)}

    @put("/challenges/{challenge_id:str}/evaluation", opt=allow("civil_servant"), status_code=HTTP_200_OK)
    async def setup(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.SetupIn) -> schemas.SetupOut:
        """Make the first round blind (company identity hidden from evaluators), or not."""
        return await services.set_blind(current(request), challenge_id, data.blind_first_round)

    @post("/challenges/{challenge_id:str}/evaluators", opt=allow("civil_servant"), status_code=HTTP_201_CREATED)
    async def assign(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.EvaluatorIn) -> schemas.EvaluatorOut:
        """Assign an evaluator to the challenge."""
        return await services.assign_evaluator(current(request), challenge_id, data.user_id)

    @post("/challenges/{challenge_id:str}/jury", opt=allow("civil_servant"), status_code=HTTP_201_CREATED)
    async def appoint_juror(self, request: Request[Any, Any, Any], challenge_id: str, data: jury.JurorIn) -> jury.JurorOut:
        """Name a juror (`{email, affiliation, country}`): an evaluator of any public body, who scores the stages whose
        `panel` is "jury"; 409 when the procedure has no jury."""
        return await jury.appoint(current(request), challenge_id, data)

    @get("/challenges/{challenge_id:str}/jury", opt=allow(*BUYER_AND_EVALUATORS))
    async def list_jury(self, request: Request[Any, Any, Any], challenge_id: str) -> dict[str, list[jury.JurorOut]]:
        """The jury: names, their own bodies and countries, and whether they declared (buyer team and jurors)."""
        return {"items": await jury.readable_jury(current(request), challenge_id)}

    @get("/challenges/{challenge_id:str}/evaluators", opt=allow(*BUYER_TEAM_ROLES))
    async def list_evaluators(self, request: Request[Any, Any, Any], challenge_id: str) -> dict[str, list[schemas.EvaluatorOut]]:
        """The assigned evaluators and whether they declared."""
        challenge = await services.buyer_challenge(current(request), challenge_id)
        return {"items": list((await services.evaluators(challenge)).values())}

    @post("/challenges/{challenge_id:str}/declarations", opt=allow("evaluator"), status_code=HTTP_201_CREATED)
    async def declare(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.DeclarationIn) -> schemas.DeclarationOut:
        """Declare a conflict of interest (or none); required before any proposal opens."""
        return await services.declare(current(request), challenge_id, data.has_conflict, data.statement)

    @put("/proposals/{proposal_id:str}/scores", opt=allow("evaluator"), status_code=HTTP_200_OK)
    async def score(self, request: Request[Any, Any, Any], proposal_id: str, data: schemas.ScoresIn) -> schemas.ScoresOut:
        """Score a proposal at a stage: each criterion 0..scale_max with a justification."""
        return await services.score(current(request), proposal_id, data)

    @get("/proposals/{proposal_id:str}/scores", opt=allow("evaluator"))
    async def my_scores(self, request: Request[Any, Any, Any], proposal_id: str, stage: str) -> schemas.ScoresOut:
        """My own scores of a proposal at a stage (evaluators never see each other's)."""
        from marketplace.proposals.services import proposal_view

        principal = current(request)
        proposal, challenge, _viewer, keys = await proposal_view(principal, proposal_id)
        if stage not in keys:
            from marketplace.core.errors import invalid

            raise invalid("stage", "is not a stage of this proposal open to evaluation")
        return await services.my_scores(proposal["id"], stage, uuid.UUID(principal.user_id), await services.criteria_for(challenge, stage))

    @get("/challenges/{challenge_id:str}/progress", opt=allow(*BUYER_TEAM_ROLES))
    async def progress(self, request: Request[Any, Any, Any], challenge_id: str, stage: str | None = None) -> dict[str, list[schemas.ProgressOut]]:
        """Each evaluator's progress at a stage."""
        return {"items": await services.progress(current(request), challenge_id, stage)}

    @get("/challenges/{challenge_id:str}/ranking", opt=allow(*BUYER_TEAM_ROLES))
    async def ranking(self, request: Request[Any, Any, Any], challenge_id: str, stage: str | None = None) -> schemas.RankingOut:
        """Weighted totals, evaluator spread and rank of a stage's proposals."""
        return await services.buyer_ranking(current(request), challenge_id, stage)
