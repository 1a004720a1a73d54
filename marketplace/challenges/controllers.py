"""Challenges API (HTTP only: parse, authorise, call one service, answer)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from marketplace.challenges import dialogue, matchmaking, schemas, services
from marketplace.challenges.services import TEAM_ROLES
from marketplace.core.auth import PUBLIC, allow, current
from marketplace.core.paging import page_list

ASKERS = ("company_member", "incubator_member")


class ChallengeController(Controller):
    path = "/api/v1/challenges"
    tags = ["challenges"]

    @post("/", opt=allow("civil_servant"), status_code=HTTP_201_CREATED)
    async def create(self, request: Request[Any, Any, Any], data: schemas.ChallengeIn) -> schemas.ChallengeOut:
        """Start a draft problem statement (it may be incomplete until publication)."""
        return await services.create_draft(current(request), data)

    @get("/", opt=allow(PUBLIC))
    async def catalogue(self, q: str | None = None, topic: str | None = None, cpv: str | None = None, buyer: str | None = None,
                        status: str | None = None, min_budget: str | None = None, max_budget: str | None = None,
                        closing_before: str | None = None, sort: str | None = None, limit: str | None = None,
                        cursor: str | None = None) -> schemas.ChallengePage:
        """Published challenges. `q` full text (at most 200 characters), `topic`, `cpv` (a code prefix), `buyer` (organisation id),
        `status` (published, awarded, closed, archived; comma-separated), `min_budget`/`max_budget` (cents), `closing_before`
        (RFC 3339), `sort` (newest, closing, budget), `limit` (1-100, default 20) and the opaque `cursor` of the previous page.
        Typos are forgiven: when `q` finds nothing, the challenges with the most similar known words are listed (`similar`),
        and `did_you_mean` offers a corrected query."""
        from marketplace.challenges.catalogue import CatalogueQuery, search

        return await search(CatalogueQuery(q=q, topic=topic, cpv=cpv, buyer=buyer, status=status, min_budget=min_budget,
                                           max_budget=max_budget, closing_before=closing_before, sort=sort, limit=limit, cursor=cursor))

    @get("/{challenge_id:str}", opt=allow(PUBLIC))
    async def read(self, request: Request[Any, Any, Any], challenge_id: str) -> schemas.ChallengeOut:
        """A published challenge (drafts only for their buyer team) with its status, version, current stage and stages."""
        return await services.challenge_out(await services.visible_row(request.scope.get("user"), challenge_id))

    @patch("/{challenge_id:str}", opt=allow(*TEAM_ROLES))
    async def update(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.ChallengePatch) -> schemas.ChallengeOut:
        """Edit a draft; on a published challenge, an amendment (a new version; `change_note` required)."""
        return await services.update_challenge(current(request), challenge_id, data)

    @post("/{challenge_id:str}/publish", opt=allow("procurement_officer"), status_code=HTTP_200_OK)
    async def publish(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.PublishIn | None = None) -> schemas.ChallengeOut:
        """Approve and publish now, or at `publish_at`. 422 names every missing or wrong field."""
        return await services.publish(current(request), challenge_id, data or schemas.PublishIn())

    @post("/{challenge_id:str}/request-approval", opt=allow("civil_servant"), status_code=HTTP_200_OK)
    async def request_approval(self, request: Request[Any, Any, Any], challenge_id: str) -> schemas.ApprovalOut:
        """Ask the buyer's procurement officers to publish a complete draft (422 names what is missing)."""
        from marketplace.challenges import approval

        await approval.request_approval(current(request), challenge_id)
        return await _approval_out(request, challenge_id)

    @post("/{challenge_id:str}/send-back", opt=allow("procurement_officer"), status_code=HTTP_200_OK)
    async def send_back(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.SendBackIn) -> schemas.ApprovalOut:
        """Return the draft to its authors with comments (`{comments: [{field?, text}]}`); they see them in the editor."""
        from marketplace.challenges import approval

        await approval.send_back(current(request), challenge_id, [{"field": c.field or "", "text": c.text} for c in data.comments])
        return await _approval_out(request, challenge_id)

    @get("/{challenge_id:str}/approval", opt=allow(*TEAM_ROLES))
    async def approval_state(self, request: Request[Any, Any, Any], challenge_id: str) -> schemas.ApprovalOut:
        """Where the draft's approval stands, for its buyer team."""
        return await _approval_out(request, challenge_id)

    @post("/{challenge_id:str}/close", opt=allow("procurement_officer"), status_code=HTTP_200_OK)
    async def close(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.CloseIn) -> schemas.ChallengeOut:
        """End a published challenge without an award; the reason is public and followers are told."""
        return await services.close_without_award(current(request), challenge_id, data.reason)

    @post("/{challenge_id:str}/archive", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def archive(self, request: Request[Any, Any, Any], challenge_id: str) -> schemas.ChallengeOut:
        """File away an awarded or closed challenge (still public; out of the default catalogue)."""
        return await services.archive(current(request), challenge_id)

    @get("/{challenge_id:str}/versions", opt=allow(PUBLIC))
    async def versions(self, request: Request[Any, Any, Any], challenge_id: str, limit: int = 20,
                       cursor: str | None = None) -> schemas.VersionList:
        """Every published version with its change note (paged: `?limit=`, `?cursor=`)."""
        from marketplace.challenges.catalogue import versions

        found = await versions(request.scope.get("user"), challenge_id)
        items, next_cursor = page_list(found.items, limit, cursor)
        return schemas.VersionList(items=items, next_cursor=next_cursor)

    @post("/{challenge_id:str}/questions", opt=allow(*ASKERS), status_code=HTTP_201_CREATED)
    async def ask(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.QuestionIn) -> schemas.QuestionOut:
        """Ask a question before the Q&A deadline (the asker stays anonymous to everyone but the buyer team)."""
        return await dialogue.ask(current(request), challenge_id, data)

    @get("/{challenge_id:str}/questions", opt=allow(PUBLIC))
    async def questions(self, request: Request[Any, Any, Any], challenge_id: str, limit: int = 20,
                        cursor: str | None = None) -> schemas.QuestionList:
        """Answered questions (the buyer team also sees unanswered ones and who asked); paged."""
        found = await dialogue.list_questions(request.scope.get("user"), challenge_id)
        items, next_cursor = page_list(found.items, limit, cursor)
        return schemas.QuestionList(items=items, next_cursor=next_cursor)

    @post("/{challenge_id:str}/follow", opt=allow(*ASKERS, *TEAM_ROLES), status_code=HTTP_200_OK)
    async def follow(self, request: Request[Any, Any, Any], challenge_id: str) -> schemas.FollowOut:
        """Follow a challenge: be told of its amendments and answers."""
        return await matchmaking.follow(current(request), challenge_id, True)

    @delete("/{challenge_id:str}/follow", opt=allow(*ASKERS, *TEAM_ROLES), status_code=HTTP_204_NO_CONTENT)
    async def unfollow(self, request: Request[Any, Any, Any], challenge_id: str) -> None:
        """Stop following."""
        await matchmaking.follow(current(request), challenge_id, False)

    @post("/{challenge_id:str}/co-sponsors", opt=allow(*TEAM_ROLES), status_code=HTTP_201_CREATED)
    async def co_sponsor(self, request: Request[Any, Any, Any], challenge_id: str,
                         data: schemas.CoSponsorIn | None = None) -> list[schemas.CoSponsorOut]:
        """Another public body declares "we have this problem too"."""
        return await matchmaking.co_sponsor(current(request), challenge_id, data or schemas.CoSponsorIn())


class DialogueController(Controller):
    path = "/api/v1"
    tags = ["challenges"]

    @post("/questions/{question_id:str}/answer", opt=allow(*TEAM_ROLES), status_code=HTTP_200_OK)
    async def answer(self, request: Request[Any, Any, Any], question_id: str, data: schemas.AnswerIn) -> schemas.QuestionOut:
        """The buyer team answers; the answer is public at once."""
        return await dialogue.answer(current(request), question_id, data)

    @post("/subscriptions", opt=allow(*ASKERS), status_code=HTTP_201_CREATED)
    async def subscribe(self, request: Request[Any, Any, Any], data: schemas.SubscriptionIn) -> schemas.SubscriptionOut:
        """Be told (once, in-app and by e-mail digest) of new challenges matching topics, CPV prefixes or keywords, or a
        saved catalogue search: `{"search": {q, topic, cpv, min_budget, max_budget}}` (budgets in cents), matched as
        `GET /api/v1/challenges` with those parameters would list the challenge."""
        return await matchmaking.subscribe(current(request), data)

    @get("/subscriptions", opt=allow(*ASKERS))
    async def subscriptions(self, request: Request[Any, Any, Any], limit: int = 20, cursor: str | None = None) -> schemas.SubscriptionList:
        """Your subscriptions, oldest first (paged: `?limit=`, `?cursor=`); a saved search has its `catalogue_url`."""
        return await matchmaking.subscriptions_of(current(request), limit, cursor)

    @delete("/subscriptions/{subscription_id:str}", opt=allow(*ASKERS), status_code=HTTP_204_NO_CONTENT)
    async def unsubscribe(self, request: Request[Any, Any, Any], subscription_id: str) -> None:
        """Remove one of your subscriptions."""
        await matchmaking.unsubscribe(current(request), subscription_id)


async def _approval_out(request: Request[Any, Any, Any], challenge_id: str) -> schemas.ApprovalOut:
    from marketplace.challenges import approval

    state = await approval.approval_state(await services.team_row(current(request), challenge_id))
    r = state["round"] or {}
    return schemas.ApprovalOut(state=state["state"], requested_at=r.get("requested_at"), requested_by=r.get("requested_by"),
                               decided_at=r.get("decided_at"), decided_by=r.get("decided_by"), comments=state["comments"],
                               changes=sorted(state["changes"]))
