"""Readiness self-check API (HTTP only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from marketplace.challenges.services import TEAM_ROLES
from marketplace.cocreation import experiments, painpoints, questionnaires, schemas, services
from marketplace.core.auth import BUYER_ROLES, PUBLIC, SIGNED_IN, allow, current
from marketplace.core.paging import page_list


class ReadinessController(Controller):
    path = "/api/v1"
    tags = ["co-creation"]

    @get("/readiness/questionnaires", opt=allow(SIGNED_IN))
    async def list_questionnaires(self, limit: int = 20, cursor: str | None = None) -> schemas.QuestionnairePage:
        """The self-check questionnaires (readiness for co-creation; which service to put forward first),
        with their dimensions, questions and the 1-5 answer scale, in the reader's language."""
        items, next_cursor = page_list([services.questionnaire_out(q) for q in questionnaires.for_public_bodies()],
                                       limit, cursor)
        return schemas.QuestionnairePage(items=items, next_cursor=next_cursor)

    @post("/organisations/{org_id:str}/readiness", opt=allow(*services.SELF_CHECK_ROLES), status_code=HTTP_201_CREATED)
    async def answer(self, request: Request[Any, Any, Any], org_id: str, data: schemas.SelfCheckIn) -> schemas.SelfCheckOut:
        """Answer a questionnaire for your public body: `{questionnaire, answers: {question: 1-5}, subject?}`.
        Returns the score per dimension (0-100), the roadmap for the weak ones and, once at least five public
        bodies answered, an anonymous comparison (their median)."""
        return await services.answer(current(request), org_id, data)

    @get("/organisations/{org_id:str}/readiness", opt=allow(*services.SELF_CHECK_ROLES))
    async def history(self, request: Request[Any, Any, Any], org_id: str, questionnaire: str | None = None,
                      limit: int = 20, cursor: str | None = None) -> schemas.SelfCheckPage:
        """Your public body's self-checks, newest first (progress over time)."""
        rows = await services.history(current(request), org_id, questionnaire)
        page, next_cursor = page_list(rows, limit, cursor)
        return schemas.SelfCheckPage(items=[await services.self_check_out(r, compared=None) for r in page],
                                     next_cursor=next_cursor)


PARTY_ROLES = (*BUYER_ROLES, "company_member")


class ExperimentCoCreationController(Controller):
    path = "/api/v1"
    tags = ["co-creation"]

    @post("/experiments/{experiment_id:str}/reviews", opt=allow(*PARTY_ROLES), status_code=HTTP_201_CREATED)
    async def review(self, request: Request[Any, Any, Any], experiment_id: str, data: schemas.ReviewIn) -> schemas.ReviewOut:
        """After the experiment, each party reviews how the co-creation went: `{answers: {question: 1-5}, comment}`
        (the questions: GET /api/v1/experiments/{id}/reviews/questions). Once per party."""
        return await experiments.submit_review(current(request), experiment_id, data)

    @get("/experiments/{experiment_id:str}/reviews", opt=allow(*PARTY_ROLES))
    async def reviews(self, request: Request[Any, Any, Any], experiment_id: str) -> schemas.ReviewPage:
        """Your side's review; the other side's once both answered (`waiting_for` names who has not)."""
        return await experiments.reviews_for(current(request), experiment_id)

    @get("/experiments/{experiment_id:str}/reviews/questions", opt=allow(*PARTY_ROLES))
    async def review_questions(self, experiment_id: str) -> schemas.QuestionnaireOut:
        """The review's statements and answer scale, in the reader's language."""
        return services.questionnaire_out(questionnaires.get(experiments.REVIEW))

    @post("/experiments/{experiment_id:str}/right-to-challenge", opt=allow(*PARTY_ROLES), status_code=HTTP_201_CREATED)
    async def challenge_rule(self, request: Request[Any, Any, Any], experiment_id: str,
                             data: schemas.RuleChallengeIn) -> schemas.RuleChallengeOut:
        """Ask a named authority to set a rule aside for the experiment's duration: `{rule, reason, safeguards,
        duration_days, authority: {name, email}}`. The authority is e-mailed a single-use link to decide."""
        out, _token = await experiments.request_rule_challenge(current(request), experiment_id, data)
        return out

    @get("/experiments/{experiment_id:str}/right-to-challenge", opt=allow(*PARTY_ROLES))
    async def rule_challenges(self, request: Request[Any, Any, Any], experiment_id: str) -> schemas.RuleChallengePage:
        """The experiment's requests and their decisions (both parties)."""
        return schemas.RuleChallengePage(items=await experiments.rule_challenges_for(current(request), experiment_id),
                                         next_cursor=None)

    @post("/right-to-challenge/{request_id:str}/decision", opt=allow(PUBLIC), status_code=200)
    async def decide(self, request_id: str, data: schemas.RuleDecisionIn) -> schemas.RuleChallengeOut:
        """The named authority decides with written reasons, proving itself with the token of its e-mailed link."""
        return await experiments.decide_rule_challenge(request_id, data)

    @post("/right-to-challenge/{request_id:str}/outcome", opt=allow(*PARTY_ROLES), status_code=200)
    async def outcome(self, request: Request[Any, Any, Any], request_id: str, data: schemas.RuleOutcomeIn) -> schemas.RuleChallengeOut:
        """What came of a decided request (either party), published with the result card."""
        return await experiments.record_rule_outcome(current(request), request_id, data)


def _ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class PainPointController(Controller):
    path = "/api/v1"
    tags = ["co-creation"]

    @post("/challenges/{challenge_id:str}/pain-point-call", opt=allow(*TEAM_ROLES), status_code=HTTP_201_CREATED)
    async def open_call(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.PainPointCallIn) -> dict[str, Any]:
        """The buyer team opens a public call for pain points along the service's user journey (`steps`) and ideas."""
        return await painpoints.open_call(current(request), challenge_id, data.intro, data.steps, data.closes_at)

    @get("/challenges/{challenge_id:str}/pain-point-call", opt=allow(PUBLIC))
    async def read_call(self, challenge_id: str) -> dict[str, Any]:
        """The call: its introduction, the journey's steps, until when it is open, and the visible entries."""
        call, entries = await painpoints.public_entries(challenge_id)
        return {**call, "entries": entries}

    @post("/challenges/{challenge_id:str}/pain-points", opt=allow(PUBLIC), status_code=HTTP_201_CREATED)
    async def add(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.PainPointIn) -> dict[str, Any]:
        """Anyone, signed in or not, says where the service fails them (`step`) or proposes an `idea`.
        Limited per sender (429 with Retry-After)."""
        return await painpoints.submit(challenge_id, request.scope.get("user"), _ip(request), data.kind, data.step, data.text,
                                       data.name, data.consent_to_quote)

    @get("/challenges/{challenge_id:str}/pain-points", opt=allow(*TEAM_ROLES))
    async def team_view(self, request: Request[Any, Any, Any], challenge_id: str) -> dict[str, Any]:
        """For the buyer team: every entry (hidden ones too) grouped by journey step, most supported first, and the ideas."""
        return await painpoints.team_entries(current(request), challenge_id)

    @post("/pain-points/{entry_id:str}/support", opt=allow(PUBLIC), status_code=HTTP_200_OK)
    async def support(self, request: Request[Any, Any, Any], entry_id: str) -> dict[str, Any]:
        """Support an entry (once per person or sender)."""
        return await painpoints.support(entry_id, request.scope.get("user"), _ip(request))

    @post("/pain-points/{entry_id:str}/hide", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def hide(self, request: Request[Any, Any, Any], entry_id: str, data: schemas.HideIn) -> dict[str, Any]:
        """Hide an abusive entry from the public (kept, with the reason, for the record)."""
        return await painpoints.hide(current(request), entry_id, data.reason)

    @post("/pain-points/{entry_id:str}/report-back", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def report_back(self, request: Request[Any, Any, Any], entry_id: str, data: schemas.ReportBackIn) -> dict[str, Any]:
        """What became of an entry: used, merged, or not taken up (with a reason); public once the call closes."""
        return await painpoints.report_back(current(request), entry_id, data.response, data.reason)

    @post("/pain-points/{entry_id:str}/quote", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def quote(self, request: Request[Any, Any, Any], entry_id: str) -> dict[str, Any]:
        """Quote an entry whose author consented in the draft's problem statement."""
        return await painpoints.quote(current(request), entry_id)
