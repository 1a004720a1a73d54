"""Readiness self-check API (HTTP only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_201_CREATED

from marketplace.cocreation import experiments, questionnaires, schemas, services
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
