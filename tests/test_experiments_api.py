"""An experiment's journey through the API: deliverables, reviews with feedback, the outcome, and
every refusal (wrong party, wrong file, wrong state)."""

import pytest

from marketplace import files
from marketplace.experiments import storage
from marketplace.experiments.tables import DeliverableFile, Milestone
from marketplace.payments.tables import Payout
from tests.factories import make_user, token_for
from tests.factories_payments import PDF, deliver, make_experiment, route_payments_to


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


async def milestone_ids(client, experiment_id, headers):
    body = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=headers)).json()
    return [m["id"] for m in body["milestones"]]


async def test_company_delivers_buyer_asks_for_changes_then_accepts(client):
    experiment_id, servant, officer, founder = await make_experiment()
    company, buyer = await token_for(founder), await token_for(servant)
    first, _second = await milestone_ids(client, experiment_id, company)

    delivered = await deliver(client, first, company)
    assert delivered.status_code == 201, delivered.text
    assert delivered.json()["status"] == "submitted"
    assert delivered.json()["deliverables"][0]["files"][0]["filename"] == "report.pdf"

    no_feedback = await client.post(f"/api/v1/milestones/{first}/review", headers=buyer, json={"decision": "request_changes"})
    assert no_feedback.status_code == 422 and no_feedback.json()["errors"][0]["field"] == "feedback"
    changes = await client.post(f"/api/v1/milestones/{first}/review", headers=buyer,
                                json={"decision": "request_changes", "feedback": "Add the call-volume figures."})
    assert changes.json()["status"] == "changes_requested"
    assert changes.json()["reviews"][0]["feedback"] == "Add the call-volume figures."

    again = await deliver(client, first, company, report="Now with the figures.")
    assert again.json()["deliverables"][-1]["version"] == 2
    accepted = await client.post(f"/api/v1/milestones/{first}/review", headers=await token_for(officer),
                                 json={"decision": "accept", "feedback": "Thank you."})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert body["payout"]["status"] == "pending" and body["payout"]["amount"] == {"amount": 500_000, "currency": "EUR"}
    assert body["payout"]["days_left"] == 30

    twice = await client.post(f"/api/v1/milestones/{first}/review", headers=buyer, json={"decision": "accept"})
    assert twice.status_code == 409
    late = await deliver(client, first, company)
    assert late.status_code == 409
    assert await Payout.count() == 1


async def test_nothing_to_review_before_a_deliverable(client):
    experiment_id, servant, _officer, founder = await make_experiment()
    first, _ = await milestone_ids(client, experiment_id, await token_for(founder))
    response = await client.post(f"/api/v1/milestones/{first}/review", headers=await token_for(servant), json={"decision": "accept"})
    assert response.status_code == 409
    assert await Payout.count() == 0


async def test_wrong_files_are_refused_and_nothing_is_stored(client, monkeypatch, file_storage):
    experiment_id, _servant, _officer, founder = await make_experiment()
    company = await token_for(founder)
    first, _ = await milestone_ids(client, experiment_id, company)
    files_before = sorted(await files.names("deliverables"))
    exe = await deliver(client, first, company, files=[("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))])
    assert exe.status_code == 422 and exe.json()["errors"][0]["field"] == "files[0]"
    fake_pdf = await deliver(client, first, company, files=[("files", ("report.pdf", b"<html>", "application/pdf"))])
    assert fake_pdf.status_code == 422 and "not a PDF" in fake_pdf.json()["errors"][0]["message"]
    monkeypatch.setattr(storage, "MAX_FILE_BYTES", 10)
    big = await deliver(client, first, company)
    assert big.status_code == 422 and "larger than" in big.json()["errors"][0]["message"]
    no_report = await deliver(client, first, company, report="  ")
    assert no_report.status_code == 422 and no_report.json()["errors"][0]["field"] == "report"
    assert await DeliverableFile.count() == 0
    assert (await Milestone.select(Milestone.status).where(Milestone.id == first).first())["status"] == "pending"
    assert sorted(await files.names("deliverables")) == files_before


async def test_files_are_stored_by_random_name_and_downloaded_by_both_parties_only(client, file_storage):
    experiment_id, servant, _officer, founder = await make_experiment()
    company = await token_for(founder)
    first, _ = await milestone_ids(client, experiment_id, company)
    body = (await deliver(client, first, company, files=[
        ("files", ("../../etc/passwd.txt", b"figures", "text/plain")), ("files", ("r.pdf", PDF, "application/pdf"))])).json()
    files = body["deliverables"][0]["files"]
    assert files[0]["filename"] == "passwd.txt"
    stored = await DeliverableFile.select(DeliverableFile.storage_name).first()
    assert "passwd" not in stored["storage_name"]
    download = await client.get(files[1]["url"], headers=await token_for(servant))
    assert download.status_code == 200 and download.content == PDF
    outsider = await make_user("civil_servant")
    assert (await client.get(files[1]["url"], headers=await token_for(outsider))).status_code == 404


async def test_a_failed_experiment_still_pays_its_accepted_milestones(client):
    experiment_id, servant, officer, founder = await make_experiment()
    company = await token_for(founder)
    first, _second = await milestone_ids(client, experiment_id, company)
    await deliver(client, first, company)
    await client.post(f"/api/v1/milestones/{first}/review", headers=await token_for(officer), json={"decision": "accept"})
    outcome = await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=await token_for(servant), json={
        "result": "failed", "learnings": "Voice quality on old lines is too poor.", "follow_on": "stop"})
    assert outcome.status_code == 200, outcome.text
    body = outcome.json()
    assert body["status"] == "finished" and body["outcome"] == "failed" and body["follow_on"] == "stop"
    assert body["milestones"][0]["payout"]["status"] == "pending"  # still paid
    again = await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=await token_for(servant), json={
        "result": "succeeded", "learnings": "x", "follow_on": "scale_up"})
    assert again.status_code == 409
    bad = await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=await token_for(servant), json={
        "result": "meh", "learnings": "", "follow_on": "stop"})
    assert bad.status_code == 422


async def test_overdue_milestones_are_flagged(client):
    experiment_id, servant, _officer, founder = await make_experiment(due_in_days=-3, milestones=1)
    body = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=await token_for(servant))).json()
    assert body["milestones"][0]["overdue"] is True


async def test_authorisation_of_every_experiment_endpoint(client):
    experiment_id, servant, officer, founder = await make_experiment()
    company = await token_for(founder)
    first, second = await milestone_ids(client, experiment_id, company)
    outsider_company = await token_for(await make_user("company_member"))
    outsider_buyer = await token_for(await make_user("civil_servant", "procurement_officer"))
    evaluator = await token_for(await make_user("evaluator", org=servant.org))

    # reading: both parties; others see nothing
    assert (await client.get(f"/api/v1/experiments/{experiment_id}")).status_code == 401
    assert (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).status_code == 200
    assert (await client.get(f"/api/v1/experiments/{experiment_id}", headers=await token_for(officer))).status_code == 200
    assert (await client.get(f"/api/v1/experiments/{experiment_id}", headers=outsider_company)).status_code == 404
    assert (await client.get("/api/v1/experiments/not-an-id", headers=company)).status_code == 404

    # delivering: the company only
    assert (await deliver(client, first, outsider_company)).status_code == 404
    assert (await deliver(client, first, await token_for(servant))).status_code == 403
    assert (await deliver(client, first, company)).status_code == 201

    # reviewing: the buyer's civil servants and procurement officers
    review = {"decision": "request_changes", "feedback": "More"}
    assert (await client.post(f"/api/v1/milestones/{first}/review", headers=company, json=review)).status_code == 403
    assert (await client.post(f"/api/v1/milestones/{first}/review", headers=evaluator, json=review)).status_code == 403
    assert (await client.post(f"/api/v1/milestones/{first}/review", headers=outsider_buyer, json=review)).status_code == 404
    assert (await client.post(f"/api/v1/milestones/{first}/review", headers=await token_for(servant), json=review)).status_code == 200

    # the outcome: the buyer's civil servants
    outcome = {"result": "partial", "learnings": "Some", "follow_on": "new_challenge"}
    assert (await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=await token_for(officer), json=outcome)).status_code == 403
    assert (await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=outsider_buyer, json=outcome)).status_code == 404
    assert (await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=await token_for(servant), json=outcome)).status_code == 200
    assert second


async def test_parties_are_told_of_deliverables_reviews_and_overdue_milestones(client):
    from datetime import timedelta

    import time_machine

    from marketplace.core.clock import now
    from marketplace.experiments.notices import flag_overdue_milestones
    from marketplace.mail.tables import Notification, OutboxMessage

    experiment_id, servant, officer, founder = await make_experiment(milestones=1, due_in_days=10)
    company = await token_for(founder)
    [first] = await milestone_ids(client, experiment_id, company)
    await deliver(client, first, company)
    assert await OutboxMessage.count().where(OutboxMessage.kind == "milestone_submitted") == 2  # both reviewers
    await client.post(f"/api/v1/milestones/{first}/review", headers=await token_for(servant),
                      json={"decision": "request_changes", "feedback": "Add figures."})
    told = await OutboxMessage.select().where(OutboxMessage.kind == "milestone_reviewed").first()
    assert told["to_address"] == founder.email and "Add figures." in told["body_text"]
    assert await flag_overdue_milestones() == 0
    with time_machine.travel(now() + timedelta(days=12), tick=False):
        assert await flag_overdue_milestones() == 1  # one milestone, told to all three people
        assert await flag_overdue_milestones() == 0  # once
    assert await Notification.count().where(Notification.kind == "milestone_overdue") == 3


async def test_experiment_results_for_transparency(client):
    from datetime import date

    from marketplace.experiments.services import create_experiment, experiment_results
    from tests.factories_contracts import make_challenge

    servant = await make_user("civil_servant")
    founder = await make_user("company_member")
    challenge = await make_challenge(buyer=servant.org)
    experiment_id = await create_experiment(buyer_id=servant.org.id, company_id=founder.org.id, title="Pilot",
                                            challenge_id=challenge.id, milestones=[
                                                {"title": "One", "amount_cents": 100_000, "due_date": date(2027, 1, 1)}])
    [result] = await experiment_results(challenge.id)
    assert result["experiment_id"] == experiment_id and result["status"] == "running"
    assert (result["milestones"], result["milestones_accepted"], result["paid_cents"]) == (1, 0, 0)
