"""Around an experiment: both parties review how the co-creation went (each sees the other's answers
only once both answered), a rule is challenged and decided by a named authority with reasons, and
both appear on the public result card."""

from __future__ import annotations

import re

from marketplace.experiments.tables import Experiment
from marketplace.mail.tables import OutboxMessage
from tests.factories import make_user, signed_in_client, token_for
from tests.factories_payments import make_experiment

GOOD = {"clear_problem": 5, "good_dialogue": 4, "fast_decisions": 3, "fast_payment": 5}
POOR = {"clear_problem": 2, "good_dialogue": 3, "fast_decisions": 1, "fast_payment": 2}


async def _finished_experiment():
    experiment_id, servant, officer, founder = await make_experiment(milestones=1)
    await Experiment.update({Experiment.status: "finished", Experiment.outcome: "partial", Experiment.follow_on: "stop",
                             Experiment.learnings: "Voice triage works for Dutch, not yet for French."}).where(
        Experiment.id == experiment_id)
    return experiment_id, servant, founder


async def test_both_sides_review_and_see_each_other_only_once_both_answered(client):
    experiment_id, servant, founder = await _finished_experiment()
    buyer, company = await token_for(servant), await token_for(founder)
    path = f"/api/v1/experiments/{experiment_id}/reviews"

    first = await client.post(path, headers=buyer, json={"answers": GOOD, "comment": "Decide faster on stage 2."})
    assert first.status_code == 201, first.text
    assert first.json()["total"] == 81 and first.json()["party"] == "buyer"  # (100 + 75 + 50 + 100) / 4 = 81.25
    again = await client.post(path, headers=await token_for(await make_user("civil_servant", org=servant.org)),
                              json={"answers": GOOD})
    assert again.status_code == 409  # one review per side
    seen_by_company = (await client.get(path, headers=company)).json()
    assert seen_by_company["items"] == [] and seen_by_company["waiting_for"] == "company"
    assert (await client.get(f"/results/{experiment_id}")).text.count("How the co-creation went") == 0

    assert (await client.post(path, headers=company, json={"answers": POOR, "comment": "Pay within 30 days."})).status_code == 201
    both = (await client.get(path, headers=buyer)).json()
    assert {r["party"] for r in both["items"]} == {"buyer", "company"} and both["waiting_for"] is None
    card = await client.get(f"/results/{experiment_id}")
    assert "How the co-creation went" in card.text and "Pay within 30 days." in card.text


async def test_a_review_waits_for_the_end_names_missing_answers_and_strangers_see_nothing(client):
    experiment_id, servant, founder, *_ = await make_experiment(milestones=1)
    path = f"/api/v1/experiments/{experiment_id}/reviews"
    early = await client.post(path, headers=await token_for(servant), json={"answers": GOOD})
    assert early.status_code == 409
    await Experiment.update({Experiment.status: "finished"}).where(Experiment.id == experiment_id)
    partial = await client.post(path, headers=await token_for(servant), json={"answers": {"clear_problem": 4}})
    assert partial.status_code == 422
    assert {e["field"] for e in partial.json()["errors"]} == {"answers.good_dialogue", "answers.fast_decisions", "answers.fast_payment"}
    stranger = await token_for(await make_user("company_member"))
    assert (await client.get(path, headers=stranger)).status_code == 404
    assert (await client.post(path, headers=stranger, json={"answers": GOOD})).status_code == 404


async def test_a_rule_is_challenged_decided_by_the_named_authority_and_published(client):
    experiment_id, servant, officer, founder = await make_experiment(milestones=1)
    company = await token_for(founder)
    request = await client.post(f"/api/v1/experiments/{experiment_id}/right-to-challenge", headers=company, json={
        "rule": "Calls may only be recorded by sworn operators (art. 12 of the 112 decree)",
        "reason": "The voice assistant must record to transcribe.", "safeguards": "Recordings deleted after 24 hours.",
        "duration_days": 60, "authority": {"name": "FPS Home Affairs, legal service", "email": "legal@interior.example"}})
    assert request.status_code == 201, request.text
    request_id = request.json()["id"]
    mail = await OutboxMessage.select().where(OutboxMessage.to_address == "legal@interior.example").first()
    token = re.search(r"token=([\w-]+)", mail["body_text"]).group(1)

    assert (await client.get(f"/right-to-challenge/{request_id}/decide?token=wrong-token-123")).status_code == 404
    decide_page = await client.get(f"/right-to-challenge/{request_id}/decide?token={token}")
    assert decide_page.status_code == 200 and "sworn operators" in decide_page.text
    forged = await client.post(f"/api/v1/right-to-challenge/{request_id}/decision", json={
        "token": "forged-token-value", "decision": "granted", "reasons": "Fine.", "decided_by": "Someone"})
    assert forged.status_code == 404
    decided = await client.post(f"/api/v1/right-to-challenge/{request_id}/decision", json={
        "token": token, "decision": "granted", "reasons": "Safeguards are sufficient for 60 days.",
        "decided_by": "A. Legal, head of the legal service"})
    assert decided.status_code == 200 and decided.json()["status"] == "granted"
    twice = await client.post(f"/api/v1/right-to-challenge/{request_id}/decision", json={
        "token": token, "decision": "refused", "reasons": "Changed my mind.", "decided_by": "A. Legal"})
    assert twice.status_code == 409

    outcome = await client.post(f"/api/v1/right-to-challenge/{request_id}/outcome", headers=await token_for(servant),
                                json={"note": "No incident; the decree is being amended."})
    assert outcome.status_code == 200
    await Experiment.update({Experiment.status: "finished", Experiment.outcome: "succeeded", Experiment.follow_on: "scale_up",
                             Experiment.learnings: "It works."}).where(Experiment.id == experiment_id)
    card = await client.get(f"/results/{experiment_id}")
    assert "Rules set aside for the experiment" in card.text and "Safeguards are sufficient" in card.text
    assert "the decree is being amended" in card.text


async def test_the_parties_use_the_forms_on_the_experiment_page(client):
    from tests.factories import csrf_token

    experiment_id, servant, founder = await _finished_experiment()
    await signed_in_client(client, founder)
    experiment_page = await client.get(f"/experiments/{experiment_id}")
    assert experiment_page.status_code == 200 and "co-creation-review" in experiment_page.text
    token = await csrf_token(client, f"/experiments/{experiment_id}")
    sent = await client.post(f"/experiments/{experiment_id}/co-creation-review",
                             data={"_csrf_token": token, **{k: str(v) for k, v in GOOD.items()}, "comment": "Thanks."})
    assert sent.status_code == 303
    after = await client.get(f"/experiments/{experiment_id}")
    assert "The company&#39;s review" in after.text or "The company's review" in after.text
