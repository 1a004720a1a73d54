"""Proposals API (HTTP only: parse, authorise, call one service, answer)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.core.auth import allow, current
from marketplace.proposals import decisions, schemas, services, team

TEAM_ROLES = ("company_member", "incubator_member")
READERS = ("company_member", "incubator_member", "civil_servant", "procurement_officer", "buyer_admin", "evaluator")
BUYER_READERS = ("civil_servant", "procurement_officer", "buyer_admin", "evaluator")


class ProposalController(Controller):
    path = "/api/v1"
    tags = ["proposals"]

    @post("/challenges/{challenge_id:str}/proposals", opt=allow(*TEAM_ROLES), status_code=HTTP_201_CREATED)
    async def start(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.ProposalStartIn | None = None) -> schemas.ProposalOut:
        """Start a draft proposal at the challenge's first stage (company member, or incubator member
        with `company_id` of a consenting portfolio company)."""
        return await services.start_proposal(current(request), challenge_id, data.company_id if data else None)

    @get("/proposals/{proposal_id:str}", opt=allow(*READERS))
    async def read(self, request: Request[Any, Any, Any], proposal_id: str) -> schemas.ProposalOut:
        """A proposal with its stages, answers, decisions, feedback and timeline. Its team always sees it;
        the buyer team and assigned evaluators only the stages whose deadline passed; anyone else gets 404."""
        return await services.get_proposal(current(request), proposal_id)

    @put("/proposals/{proposal_id:str}/stages/{stage:str}", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def save(self, request: Request[Any, Any, Any], proposal_id: str, stage: str, data: schemas.AnswersIn) -> schemas.ProposalOut:
        """Save the stage's answers as a draft (fields left out keep their value; null clears one)."""
        return await services.save_answers(current(request), proposal_id, stage, data.answers)

    @post("/proposals/{proposal_id:str}/stages/{stage:str}/submit", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def submit(self, request: Request[Any, Any, Any], proposal_id: str, stage: str) -> schemas.ProposalOut:
        """Submit the stage (again, as a new version, until the deadline). 409 after `closes_at`;
        422 naming each missing or too-long field."""
        return await services.submit_stage(current(request), proposal_id, stage)

    @get("/proposals/{proposal_id:str}/team", opt=allow(*READERS))
    async def read_team(self, request: Request[Any, Any, Any], proposal_id: str) -> team.TeamOut:
        """The team's named members (name, organisation, kind, country), for whoever may read the proposal."""
        return await team.read_team(current(request), proposal_id)

    @put("/proposals/{proposal_id:str}/team", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def replace_team(self, request: Request[Any, Any, Any], proposal_id: str, data: team.TeamIn) -> team.TeamOut:
        """Name the team's members (`{members: [{name, organisation, kind, country}]}`, replacing the list) while the
        proposal's stage is open and declares `team`; 409 naming the stage and the feature otherwise."""
        return await team.replace_team(current(request), proposal_id, data)

    @post("/proposals/{proposal_id:str}/withdraw", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def withdraw(self, request: Request[Any, Any, Any], proposal_id: str) -> schemas.ProposalOut:
        """Withdraw the proposal."""
        return await services.withdraw(current(request), proposal_id)

    @get("/me/proposals", opt=allow(*TEAM_ROLES))
    async def mine(self, request: Request[Any, Any, Any]) -> dict[str, list[schemas.ProposalOut]]:
        """The proposals of my company, or of my incubator's consenting portfolio companies."""
        return {"items": await services.my_proposals(current(request))}

    @get("/challenges/{challenge_id:str}/proposals", opt=allow(*BUYER_READERS))
    async def of_stage(self, request: Request[Any, Any, Any], challenge_id: str, stage: str | None = None, limit: int = 20,
                       cursor: str | None = None) -> schemas.ProposalListOut:
        """Submitted proposals of a stage whose deadline passed (`?stage=`; default the latest such stage)."""
        _challenge, _key, items, next_cursor = await services.stage_proposals(current(request), challenge_id, stage,
                                                                              limit, cursor)
        return schemas.ProposalListOut(items=items, next_cursor=next_cursor)

    @post("/proposals/{proposal_id:str}/decisions", opt=allow("civil_servant"), status_code=HTTP_201_CREATED)
    async def decide(self, request: Request[Any, Any, Any], proposal_id: str, data: schemas.DecisionIn) -> schemas.ProposalOut:
        """Advance or reject the proposal at a stage in evaluation, with written feedback (required)."""
        return await decisions.decide(current(request), proposal_id, data)

    @post("/challenges/{challenge_id:str}/stages/{stage:str}/close", opt=allow("civil_servant"), status_code=HTTP_200_OK)
    async def close(self, request: Request[Any, Any, Any], challenge_id: str, stage: str) -> schemas.StageCloseOut:
        """End the stage's decisions: 409 while a proposal lacks a decision with feedback."""
        return await decisions.close_stage(current(request), challenge_id, stage)
