"""Awarding a selected proposal: within the cap, milestones adding up, dates within the duration;
rejected bidders told with their feedback; every bad input refused with nothing half-written."""

from datetime import timedelta

import time_machine

from marketplace.awards.tables import Award, AwardMilestone, Contract
from marketplace.challenges.tables import Challenge, ChallengeStage
from marketplace.core.clock import now
from marketplace.documents.services import read_bytes
from marketplace.documents.tables import Document
from marketplace.mail.tables import Notification, OutboxMessage
from marketplace.proposals.tables import Proposal
from tests.factories import make_user, token_for
from tests.factories_contracts import award_body, make_award_setting, make_decided_proposal, pdf_text


async def test_officer_awards_the_selected_proposal_and_the_standstill_starts(client, settings):
    s = await make_award_setting()
    response = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner),
                                 headers=await token_for(s.officer))
    assert response.status_code == 201, response.text
    award = response.json()
    assert award["status"] == "standstill"
    assert award["amount"] == {"amount": 2_000_000, "currency": "EUR"}
    assert [m["amount"]["amount"] for m in award["milestones"]] == [1_200_000, 800_000]
    assert award["company"]["name"] == "TriageVoice BV"
    assert award["contract_id"]
    ends = now() + timedelta(days=settings.standstill_days)
    assert award["standstill_ends_at"][:10] == ends.date().isoformat()
    assert (await Proposal.select(Proposal.status).where(Proposal.id == s.winner.id).first())["status"] == "awarded"
    assert (await Challenge.select(Challenge.status).where(Challenge.id == s.challenge.id).first())["status"] == "awarded"
    contract = await Contract.objects().where(Contract.award == award["id"]).first()
    assert contract.status == "draft" and contract.number.startswith(f"C-{now().year}-")

    # The winner gets an award letter; the rejected bidder a letter with its feedback, in French.
    won = await Document.objects().where((Document.kind == "award_letter") & (Document.subject_id == str(s.winner.id))).first()
    _, text = pdf_text(await read_bytes(won))
    assert "TriageVoice BV" in text and "€20,000.00" in text
    lost = await Document.objects().where((Document.kind == "rejection_letter") & (Document.subject_id == str(s.loser.id))).first()
    assert lost.language == "fr"
    _, text = pdf_text(await read_bytes(lost))
    assert "The plan lacks a measurable target." in text and "GeoFlow Mobility SRL" in text
    assert "TriageVoice BV" in text  # who won
    assert await OutboxMessage.count().where(OutboxMessage.to_address == s.loser_member.email) == 1
    assert await OutboxMessage.count().where(OutboxMessage.to_address == s.winner_member.email) == 1
    assert await Notification.count().where(Notification.user == s.loser_member.id) == 1

    public = await client.get(f"/api/v1/challenges/{s.challenge.id}/awards")
    assert [a["id"] for a in public.json()["items"]] == [award["id"]] and public.json()["next_cursor"] is None


async def test_the_letters_can_be_downloaded_by_the_company_only(client):
    s = await make_award_setting()
    await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner), headers=await token_for(s.officer))
    own = await client.get(f"/api/v1/proposals/{s.loser.id}/letter", headers=await token_for(s.loser_member))
    assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
    other = await client.get(f"/api/v1/proposals/{s.loser.id}/letter", headers=await token_for(s.winner_member))
    assert other.status_code == 404
    buyer = await client.get(f"/api/v1/proposals/{s.loser.id}/letter", headers=await token_for(s.officer))
    assert buyer.status_code == 200


async def _refused(client, s, body, status, field=None, user=None):
    response = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=body,
                                 headers=await token_for(user or s.officer))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field:
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert await Award.count() == 0 and await AwardMilestone.count() == 0 and await Contract.count() == 0
    assert await Document.count() == 0 and await OutboxMessage.count() == 0
    return response.json()


async def test_award_above_the_cap_is_refused(client):
    s = await make_award_setting(budget_cap_cents=1_500_000)
    problem = await _refused(client, s, award_body(s.winner), 422, "amount.amount")
    assert "budget cap of €15,000.00" in problem["detail"]


async def test_milestones_that_do_not_add_up_are_refused(client):
    s = await make_award_setting()
    body = award_body(s.winner)
    body["amount"]["amount"] = 2_100_000
    problem = await _refused(client, s, body, 422, "milestones")
    assert "add up to €20,000.00, not the price of €21,000.00" in problem["detail"]


async def test_due_dates_outside_the_allowed_duration_are_refused(client):
    s = await make_award_setting(max_duration_days=50)
    body = award_body(s.winner, amounts=(1_000_000, 1_000_000))  # due in 45 and 70 days: the second is too late
    problem = await _refused(client, s, body, 422, "milestones[1].due_date")
    assert "longest experiment allowed" in problem["detail"]
    early = award_body(s.winner, start=(now() - timedelta(days=40)).date())
    await _refused(client, s, early, 422, "milestones[0].due_date")


async def test_wrong_currency_zero_amounts_and_unknown_fields_are_refused(client):
    s = await make_award_setting()
    body = award_body(s.winner)
    body["amount"]["currency"] = "USD"
    await _refused(client, s, body, 422, "amount.currency")
    body = award_body(s.winner, amounts=(2_000_000, 0))
    await _refused(client, s, body, 422, "milestones[1].amount.amount")
    await _refused(client, s, {**award_body(s.winner), "discount": 5}, 422, "discount")
    await _refused(client, s, {**award_body(s.winner), "milestones": []}, 422, "milestones")


async def test_rejected_withdrawn_or_foreign_proposals_cannot_be_awarded(client):
    s = await make_award_setting()
    await _refused(client, s, award_body(s.loser), 409, "proposal_id")
    withdrawn = await make_decided_proposal(s.challenge, "withdrawn")
    await _refused(client, s, award_body(withdrawn), 409, "proposal_id")
    other = await make_award_setting()
    await _refused(client, s, award_body(other.winner), 422, "proposal_id")


async def test_awarding_before_the_last_stage_is_decided_is_refused(client):
    s = await make_award_setting()
    await ChallengeStage.update({ChallengeStage.status: "evaluation"}).where(
        (ChallengeStage.challenge == s.challenge.id) & (ChallengeStage.key == "pitch"))
    problem = await _refused(client, s, award_body(s.winner), 409)
    assert "last stage" in problem["detail"]


async def test_the_same_proposal_cannot_be_awarded_twice(client):
    s = await make_award_setting()
    headers = await token_for(s.officer)
    assert (await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner), headers=headers)).status_code == 201
    again = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner), headers=headers)
    assert again.status_code == 409
    assert await Award.count() == 1


async def test_a_second_award_must_fit_in_what_is_left_of_the_cap(client):
    s = await make_award_setting()
    second = await make_decided_proposal(s.challenge, "selected")
    headers = await token_for(s.officer)
    assert (await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner), headers=headers)).status_code == 201
    over = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(second), headers=headers)
    assert over.status_code == 422
    assert "€20,000.00 already awarded" in over.json()["detail"]
    fits = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(second, amounts=(1_000_000,)),
                             headers=headers)
    assert fits.status_code == 201
    first_page = (await client.get(f"/api/v1/challenges/{s.challenge.id}/awards?limit=1")).json()
    second_page = (await client.get(f"/api/v1/challenges/{s.challenge.id}/awards?limit=1&cursor={first_page['next_cursor']}")).json()
    assert len(first_page["items"]) == 1 and second_page["next_cursor"] is None
    assert first_page["items"][0]["id"] != second_page["items"][0]["id"]
    # The rejected bidder was told once, not at every award.
    assert await Document.count().where(Document.kind == "rejection_letter") == 1


async def test_who_may_award(client):
    s = await make_award_setting()
    url = f"/api/v1/challenges/{s.challenge.id}/awards"
    assert (await client.post(url, json=award_body(s.winner))).status_code == 401
    for user in (s.civil_servant, s.winner_member, await make_user("procurement_officer")):  # the last: another body
        response = await client.post(url, json=award_body(s.winner), headers=await token_for(user))
        assert response.status_code == 403, response.text
    assert await Award.count() == 0
    unknown = await client.post("/api/v1/challenges/00000000-0000-0000-0000-000000000000/awards",
                                json=award_body(s.winner), headers=await token_for(s.officer))
    assert unknown.status_code == 404


async def test_standstill_length_follows_the_setting(client, override_settings):
    override_settings(standstill_days=0)
    s = await make_award_setting()
    with time_machine.travel(now(), tick=False):
        response = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards",
                                     json=award_body(s.winner, start=now().date()), headers=await token_for(s.officer))
        assert response.status_code == 201, response.text
        assert response.json()["standstill_ends_at"][:19] == now().isoformat()[:19]


async def test_public_award_views_do_not_need_a_login(client):
    s = await make_award_setting()
    award = (await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner),
                               headers=await token_for(s.officer))).json()
    public = await client.get(f"/api/v1/awards/{award['id']}")
    assert public.status_code == 200
    assert public.json() == award, "anyone sees the award as its officer saw it"
    assert public.json()["company"]["name"] == "TriageVoice BV" and public.json()["amount"] == {"amount": 2_000_000, "currency": "EUR"}
    missing = await client.get("/api/v1/awards/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


async def test_a_double_click_awards_once(client):
    import asyncio

    s = await make_award_setting()
    headers = await token_for(s.officer)
    url = f"/api/v1/challenges/{s.challenge.id}/awards"
    responses = await asyncio.gather(*(client.post(url, json=award_body(s.winner), headers=headers) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert await Award.count() == 1 and await Contract.count() == 1


async def test_a_closed_challenge_cannot_be_awarded(client):
    s = await make_award_setting(status="closed")
    problem = await _refused(client, s, award_body(s.winner), 409)
    assert "closed" in problem["detail"]
