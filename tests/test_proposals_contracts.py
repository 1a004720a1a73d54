"""What other domains call: the bidders of a challenge, and awarding a selected proposal."""

import pytest

from marketplace.core.errors import Conflict, NotFound
from marketplace.proposals import services
from marketplace.proposals.tables import Proposal
from tests.factories import make_org
from tests.factories_proposals import make_open_challenge, make_proposal


async def test_bidders_are_the_companies_with_a_proposal_not_withdrawn():
    challenge = await make_open_challenge()
    drafting = await make_proposal(challenge)
    submitted = await make_proposal(challenge, status="submitted")
    await make_proposal(challenge, status="withdrawn")
    await make_org("company")
    assert await services.companies_with_proposals(challenge.id) == sorted(
        [str(drafting.company_org.id), str(submitted.company_org.id)])


async def test_only_a_selected_proposal_can_be_marked_awarded():
    challenge = await make_open_challenge(template="open-call")
    selected = await make_proposal(challenge, status="selected")
    submitted = await make_proposal(challenge, status="submitted")
    await services.mark_awarded(selected.id)
    assert (await Proposal.select(Proposal.status).where(Proposal.id == selected.id).first())["status"] == "awarded"
    await services.mark_awarded(selected.id)  # idempotent
    with pytest.raises(Conflict):
        await services.mark_awarded(submitted.id)
    with pytest.raises(NotFound):
        await services.mark_awarded("00000000-0000-0000-0000-000000000000")
