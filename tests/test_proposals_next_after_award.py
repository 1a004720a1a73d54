"""After the award the proposal's "What happens next" follows the contract, the milestones and the payouts."""

from __future__ import annotations

from marketplace.experiments.tables import Milestone
from marketplace.proposals.tables import Proposal
from tests.factories import signed_in_client
from tests.factories_transparency import make_running_contract


async def test_the_next_line_follows_the_experiment_after_the_award(client):
    setting, _award, _contract, experiment_id = await make_running_contract()
    await Proposal.update({Proposal.status: "awarded"}).where(Proposal.id == setting.winner.id)
    company = await signed_in_client(client, setting.winner_member)
    page = (await company.get(f"/proposals/{setting.winner.id}")).text
    assert "the test contract follows" not in page
    assert "Deliver “Shadow triage” by its due date" in page

    await Milestone.update({Milestone.status: "accepted"}).where(Milestone.experiment == experiment_id)  # accepted and paid
    page = (await company.get(f"/proposals/{setting.winner.id}")).text
    assert "Every milestone is accepted and paid out" in page and "the test contract follows" not in page
