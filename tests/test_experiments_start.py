"""A contract signed by both parties starts its experiment, with the award's milestones."""

from datetime import timedelta

import time_machine

from marketplace.awards.contracts import issue_due_contracts
from marketplace.core.clock import now
from marketplace.experiments.services import start_experiment
from marketplace.experiments.tables import Experiment, Milestone
from tests.factories import token_for
from tests.factories_contracts import award_body, make_award_setting


async def test_signing_the_contract_starts_the_experiment_once(client):
    s = await make_award_setting()
    award = (await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", headers=await token_for(s.officer),
                               json=award_body(s.winner, amounts=(1_200_000, 800_000), language="en"))).json()
    with time_machine.travel(now() + timedelta(days=11), tick=False):
        await issue_due_contracts()
    contract_id = award["contract_id"]
    url = f"/api/v1/contracts/{contract_id}/signatures"
    sha = (await client.get(f"/api/v1/contracts/{contract_id}", headers=await token_for(s.officer))).json()["document_sha256"]
    signing = {"document_sha256": sha, "confirm": True}
    assert (await client.post(url, json={"party": "buyer", **signing}, headers=await token_for(s.officer))).status_code == 201
    assert (await client.post(url, json=signing, headers=await token_for(s.winner_member))).status_code == 201

    experiment = await Experiment.select().where(Experiment.contract_id == contract_id).first()
    assert experiment is not None and experiment["status"] == "running"
    milestones = await Milestone.select().where(Milestone.experiment == experiment["id"]).order_by(Milestone.position)
    assert [(m["title"], m["amount_cents"], m["status"]) for m in milestones] == [
        ("Milestone 1", 1_200_000, "pending"), ("Milestone 2", 800_000, "pending")]
    assert await start_experiment(contract_id) == str(experiment["id"])  # idempotent
    body = (await client.get(f"/api/v1/experiments/{experiment['id']}", headers=await token_for(s.winner_member))).json()
    assert body["contract_id"] == contract_id and body["title"] == s.challenge.title
