"""A paid stage's contracts, through the API: award each selected proposal, let the standstill end,
issue and sign the contract, deliver and accept every milestone (the next stage may then open)."""

from __future__ import annotations

from datetime import timedelta

from marketplace.accounts.tables import Organisation
from marketplace.awards.contracts import issue_due_contracts
from marketplace.awards.tables import Contract
from marketplace.core.clock import now
from marketplace.experiments.tables import Experiment
from marketplace.proposals.tables import Proposal
from tests.factories import make_user, token_for
from tests.factories_contracts import award_body
from tests.factories_payments import deliver

AMOUNTS = (150_000, 100_000)  # EUR 2,500 a phase contract: within the two-phase template's 25 % of a EUR 30,000 cap


async def award_paid_stage(client, challenge, traveller, spec, amounts=AMOUNTS, only: set[str] | None = None) -> list[dict]:
    """Award every proposal selected at `spec` (a `paid` stage; or those in `only`), then move past the standstill
    and issue the contracts. Returns, per contract: {"proposal", "contract_id", "member", "company" (headers),
    "officer" (headers)}."""
    officer = await token_for(await make_user("procurement_officer", org=challenge.buyer_org))
    selected = await Proposal.objects().where((Proposal.challenge == challenge.id) & (Proposal.status == "selected"))
    out = []
    for proposal in selected:
        if only is not None and str(proposal.id) not in only:
            continue
        r = await client.post(f"/api/v1/challenges/{challenge.id}/awards", headers=officer, json=award_body(proposal, amounts))
        assert r.status_code == 201, r.text
        company = await Organisation.objects().where(Organisation.id == proposal.company).first()
        member = await make_user("company_member", org=company)
        out.append({"proposal": str(proposal.id), "contract_id": r.json()["contract_id"], "officer": officer,
                    "member": member, "company": await token_for(member)})
    traveller.move_to(now() + timedelta(days=11))
    await issue_due_contracts()  # a proposal alone at its stage had no standstill: its contract was issued at once
    issued = await Contract.count().where(Contract.id.is_in([c["contract_id"] for c in out]) & (Contract.status == "issued"))
    assert issued == len(out)
    return out


async def sign_and_deliver(client, contracts) -> None:
    """Both parties sign each contract; the company delivers and the buyer accepts every milestone."""
    for c in contracts:
        url = f"/api/v1/contracts/{c['contract_id']}/signatures"
        sha = (await client.get(f"/api/v1/contracts/{c['contract_id']}", headers=c["officer"])).json()["document_sha256"]
        signing = {"document_sha256": sha, "confirm": True}
        assert (await client.post(url, headers=c["officer"], json={"party": "buyer", **signing})).status_code == 201
        signed = await client.post(url, headers=c["company"], json=signing)
        assert signed.status_code == 201 and signed.json()["status"] == "active", signed.text
        row = await Experiment.select(Experiment.id).where(Experiment.contract_id == c["contract_id"]).first()
        experiment = (await client.get(f"/api/v1/experiments/{row['id']}", headers=c["company"])).json()
        for m in experiment["milestones"]:
            assert (await deliver(client, m["id"], c["company"])).status_code == 201
            accepted = await client.post(f"/api/v1/milestones/{m['id']}/review", headers=c["officer"],
                                         json={"decision": "accept", "feedback": "Feasibility shown."})
            assert accepted.status_code == 200, accepted.text


async def complete_paid_stage(client, challenge, traveller, spec) -> list[dict]:
    contracts = await award_paid_stage(client, challenge, traveller, spec)
    await sign_and_deliver(client, contracts)
    return contracts
