"""Readiness self-check API (HTTP only)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_201_CREATED

from marketplace.cocreation import questionnaires, schemas, services
from marketplace.core.auth import SIGNED_IN, allow, current
from marketplace.core.paging import page_list


class ReadinessController(Controller):
    path = "/api/v1"
    tags = ["co-creation"]

    @get("/readiness/questionnaires", opt=allow(SIGNED_IN))
    async def list_questionnaires(self, limit: int = 20, cursor: str | None = None) -> schemas.QuestionnairePage:
        """The self-check questionnaires (readiness for co-creation; which service to put forward first),
        with their dimensions, questions and the 1-5 answer scale, in the reader's language."""
        items, next_cursor = page_list([services.questionnaire_out(q) for q in questionnaires.all_questionnaires().values()],
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
