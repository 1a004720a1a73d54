"""Awards, objections, contracts and signatures API (HTTP only: parse, authorise, call one service)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.status_codes import HTTP_201_CREATED

from marketplace.accounts.controllers import client_ip
from marketplace.awards import contracts, schemas, services
from marketplace.core.auth import PUBLIC, SIGNED_IN, allow, current
from marketplace.core.paging import check_limit, page_list
from marketplace.documents.controllers import pdf_response


def paginate(items: list, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """`?limit=` (1-100, default 20) and an opaque `?cursor=` over a short, stable list."""
    return page_list(items, limit, cursor)


class AwardController(Controller):
    path = "/api/v1"
    tags = ["awards"]

    @post("/challenges/{challenge_id:str}/awards", opt=allow("procurement_officer"), status_code=HTTP_201_CREATED)
    async def award(self, request: Request[Any, Any, Any], challenge_id: str, data: schemas.AwardIn) -> schemas.AwardOut:
        """Award a selected proposal within the cap, with milestones adding up to the price; starts the standstill."""
        return await services.award_proposal(current(request), challenge_id, data)

    @get("/challenges/{challenge_id:str}/awards", opt=allow(PUBLIC))
    async def list_awards(self, challenge_id: str, limit: int = 20, cursor: str | None = None) -> schemas.AwardPage:
        """The challenge's awards (public: who won, for how much, until when the standstill runs)."""
        items, next_cursor = paginate(await services.list_awards(challenge_id), limit, cursor)
        return schemas.AwardPage(items=items, next_cursor=next_cursor)

    @get("/awards/{award_id:str}", opt=allow(PUBLIC))
    async def get_award(self, award_id: str) -> schemas.AwardOut:
        """One award with its milestones and standstill."""
        return await services.award_out(await services.get_award(award_id))

    @post("/awards/{award_id:str}/objections", opt=allow("company_member"), status_code=HTTP_201_CREATED)
    async def object(self, request: Request[Any, Any, Any], award_id: str, data: schemas.ObjectionIn) -> schemas.ObjectionOut:
        """A bidder that did not win objects in writing during the standstill."""
        return await services.raise_objection(current(request), award_id, data)

    @get("/awards/{award_id:str}/objections", opt=allow(SIGNED_IN))
    async def objections(self, request: Request[Any, Any, Any], award_id: str, limit: int = 20,
                         cursor: str | None = None) -> schemas.ObjectionPage:
        """The buyer team sees every objection; an objecting company its own."""
        items, next_cursor = paginate(await services.list_objections(current(request), award_id), limit, cursor)
        return schemas.ObjectionPage(items=items, next_cursor=next_cursor)

    @post("/objections/{objection_id:str}/answer", opt=allow("procurement_officer", "civil_servant"),
          status_code=HTTP_201_CREATED)
    async def answer(self, request: Request[Any, Any, Any], objection_id: str, data: schemas.AnswerIn) -> schemas.ObjectionOut:
        """The buyer answers an objection in writing."""
        return await services.answer_objection(current(request), objection_id, data)

    @get("/proposals/{proposal_id:str}/letter", opt=allow(SIGNED_IN), media_type="application/pdf")
    async def letter(self, request: Request[Any, Any, Any], proposal_id: str) -> Response[bytes]:
        """The award or rejection letter (with the feedback) of a proposal: its company and the buyer team."""
        document = await services.letter_for(current(request), proposal_id)
        return await pdf_response(document, document.kind.replace("_", "-"))


class ContractController(Controller):
    path = "/api/v1/contracts"
    tags = ["contracts"]

    @get("", opt=allow(SIGNED_IN))
    async def list_contracts(self, request: Request[Any, Any, Any], limit: int = 20,
                             cursor: str | None = None) -> schemas.ContractPage:
        """The caller's contracts (its buyer's or its company's), newest first; each carries `experiment_id`
        once signed."""
        items, next_cursor = await contracts.contracts_of(current(request), check_limit(limit), cursor)
        return schemas.ContractPage(items=items, next_cursor=next_cursor)

    @get("/{contract_id:str}", opt=allow(SIGNED_IN))
    async def get_contract(self, request: Request[Any, Any, Any], contract_id: str) -> schemas.ContractOut:
        """The contract (both parties): status, parties, milestones, document SHA-256, signatures."""
        return await contracts.contract_out(await contracts.visible_contract(current(request), contract_id))

    @get("/{contract_id:str}/document", opt=allow(SIGNED_IN), media_type="application/pdf")
    async def document(self, request: Request[Any, Any, Any], contract_id: str) -> Response[bytes]:
        """The contract's PDF (both parties), served from storage."""
        contract, document = await contracts.contract_document(current(request), contract_id)
        return await pdf_response(document, f"contract-{contract.number}")

    @post("/{contract_id:str}/signatures", opt=allow("procurement_officer", "company_member"), status_code=HTTP_201_CREATED)
    async def sign(self, request: Request[Any, Any, Any], contract_id: str,
                   data: schemas.SignatureIn | None = None) -> schemas.ContractOut:
        """Sign for the buyer (a procurement officer) or the company (a member); both signed: active."""
        return await contracts.sign_contract(current(request), contract_id, data or schemas.SignatureIn(),
                                             client_ip(request))
