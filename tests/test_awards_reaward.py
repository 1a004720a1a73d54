"""After an upheld objection the award is cancelled, stays in the history, and the officer awards
again (the same proposal or another one); the database still refuses two live awards of a proposal
at one stage, even when both requests arrive at once."""

import asyncio
import re
import uuid
from datetime import timedelta

import httpx
import pytest
import time_machine

from marketplace.awards.contracts import issue_due_contracts
from marketplace.awards.tables import Award, AwardMilestone, Contract
from marketplace.core.clock import now
from marketplace.core.db import is_integrity_error
from marketplace.mail.tables import OutboxMessage
from marketplace.proposals.tables import Proposal
from tests.factories import csrf_token, signed_in_client, token_for
from tests.factories_contracts import award_body, make_award_setting, make_decided_proposal


async def _page_client(app, user) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return await signed_in_client(httpx.AsyncClient(transport=transport, base_url="http://testserver"), user)


def _award_form(s, csrf: str) -> dict[str, str]:
    due = (now() + timedelta(days=40)).date().isoformat()
    return {"_csrf_token": csrf, "proposal_id": str(s.winner.id), "price": "20000", "language": "en",
            "m1_title": "Prototype", "m1_amount": "20000", "m1_due_date": due, "m1_deliverable": "A working prototype"}


async def _award_and_uphold_an_objection(client, s, proposal=None) -> str:
    """Award by the API, the loser objects and the officer upholds it: the award's id, now cancelled."""
    award = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(proposal or s.winner),
                              headers=await token_for(s.officer))
    assert award.status_code == 201, award.text
    objection = await client.post(f"/api/v1/awards/{award.json()['id']}/objections", json={"text": "Our pitch was scored twice."},
                                  headers=await token_for(s.loser_member))
    upheld = await client.post(f"/api/v1/objections/{objection.json()['id']}/answer",
                               json={"text": "Right: the pitch scores were counted twice.", "upheld": True},
                               headers=await token_for(s.officer))
    assert upheld.status_code == 201, upheld.text
    return award.json()["id"]


async def test_an_upheld_objection_then_the_officer_awards_the_same_proposal_again_on_the_page_and_both_sign(app):
    s = await make_award_setting()
    officer = await _page_client(app, s.officer)
    csrf = await csrf_token(officer, f"/challenges/{s.challenge.id}/award")
    first_url = (await officer.post(f"/challenges/{s.challenge.id}/award", data=_award_form(s, csrf))).headers["location"].split("?")[0]
    loser = await _page_client(app, s.loser_member)
    csrf_l = re.search(r'name="_csrf_token" value="([^"]+)"', (await loser.get(first_url)).text).group(1)
    await loser.post(f"{first_url}/objections", data={"_csrf_token": csrf_l, "text": "Our pitch was scored twice."})
    objection_id = re.search(r'action="/objections/([^/]+)/answer"', (await officer.get(first_url)).text).group(1)
    upheld = await officer.post(f"/objections/{objection_id}/answer",
                                data={"_csrf_token": csrf, "text": "Right: it was.", "upheld": "yes"})
    assert upheld.status_code == 303

    # The cancelled award offers to award again; the proposal is waiting on the form and on the contracts list.
    cancelled_page = (await officer.get(first_url)).text
    assert "Award again" in cancelled_page and f"/challenges/{s.challenge.id}/award?proposal_id={s.winner.id}" in cancelled_page
    assert "Award again" not in (await loser.get(first_url)).text
    assert f"/challenges/{s.challenge.id}/award" in (await officer.get("/contracts")).text
    form = (await officer.get(f"/challenges/{s.challenge.id}/award?proposal_id={s.winner.id}")).text
    assert f'<option value="{s.winner.id}"' in form and "cancelled after an upheld objection" in form

    again = await officer.post(f"/challenges/{s.challenge.id}/award", data=_award_form(s, csrf))
    assert again.status_code == 303, again.text
    second_url = again.headers["location"].split("?")[0]
    assert second_url != first_url
    assert (await Proposal.objects().where(Proposal.id == s.winner.id).first()).status == "awarded"

    # The history keeps both awards: the cancelled one with its cancelled draft contract, and the live one.
    history = (await officer.get(f"/api/v1/challenges/{s.challenge.id}/awards")).json()["items"]
    assert [a["status"] for a in history] == ["cancelled", "standstill"]
    assert [a["proposal_id"] for a in history] == [str(s.winner.id)] * 2
    assert await AwardMilestone.count() == 2  # each award keeps its own milestone
    # The rejected bidder hears of the new award and its new standstill, and may object again.
    assert await OutboxMessage.count().where((OutboxMessage.kind == "award_rejected")
                                             & (OutboxMessage.to_address == s.loser_member.email)) == 2
    assert "Contester cette attribution" in (await loser.get(second_url)).text

    with time_machine.travel(now() + timedelta(days=11), tick=False):
        assert await issue_due_contracts() == 1
    contracts = {c.award: c for c in await Contract.objects()}
    first_id, second_id = (u.rsplit("/", 1)[1] for u in (first_url, second_url))
    assert contracts[uuid.UUID(first_id)].status == "cancelled"
    contract = contracts[uuid.UUID(second_id)]
    assert contract.status == "issued"
    signing = {"document_sha256": contract.document_sha256, "confirm": True}
    url = f"/api/v1/contracts/{contract.id}/signatures"
    assert (await officer.post(url, json={"party": "buyer", **signing}, headers=await token_for(s.officer))).status_code == 201
    signed = await officer.post(url, json=signing, headers=await token_for(s.winner_member))
    assert signed.status_code == 201 and signed.json()["status"] == "active"
    for c in (officer, loser):
        await c.aclose()


async def test_after_an_upheld_objection_the_api_awards_another_selected_proposal_then_the_first_again(client):
    s = await make_award_setting()
    other = await make_decided_proposal(s.challenge, "selected")
    cancelled = await _award_and_uphold_an_objection(client, s)
    headers = await token_for(s.officer)
    url = f"/api/v1/challenges/{s.challenge.id}/awards"

    fresh = await client.post(url, json=award_body(other, amounts=(1_000_000,)), headers=headers)
    assert fresh.status_code == 201, fresh.text  # the cancelled award no longer counts against the cap
    again = await client.post(url, json=award_body(s.winner), headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["status"] == "standstill" and again.json()["id"] != cancelled
    twice = await client.post(url, json=award_body(s.winner, amounts=(100_000,)), headers=headers)
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "proposal_id"
    statuses = sorted(a["status"] for a in (await client.get(url)).json()["items"])
    assert statuses == ["cancelled", "standstill", "standstill"]


async def test_two_live_awards_of_one_proposal_at_one_stage_are_refused_even_at_the_same_moment(client):
    s = await make_award_setting()
    await _award_and_uphold_an_objection(client, s)
    headers = await token_for(s.officer)
    url = f"/api/v1/challenges/{s.challenge.id}/awards"

    responses = await asyncio.gather(*(client.post(url, json=award_body(s.winner), headers=headers) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert await Award.count().where(Award.status != "cancelled") == 1
    assert await Contract.count().where(Contract.status != "cancelled") == 1

    # The database itself: a second live award of the proposal at the stage is refused, a cancelled one is history.
    live = await Award.objects().where(Award.status == "standstill").first()
    copy = {c._meta.name: getattr(live, c._meta.name) for c in Award._meta.columns if c._meta.name != "id"}
    with pytest.raises(Exception) as refused:
        await Award(**copy).save()
    assert is_integrity_error(refused.value)
    await Award(**{**copy, "status": "cancelled"}).save()
    assert await Award.count().where(Award.proposal == s.winner.id) == 3
