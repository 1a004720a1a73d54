"""Contract numbers come from a per-year counter: simultaneous awards never take the same number."""

from __future__ import annotations

import asyncio

from marketplace.awards.tables import Contract
from marketplace.core.clock import now
from tests.factories import make_org, token_for
from tests.factories_contracts import award_body, make_award_setting, make_challenge, make_decided_proposal


async def test_two_simultaneous_awards_both_succeed_with_consecutive_numbers(client):
    first = await make_award_setting()
    other = await make_challenge(buyer=first.buyer, title="Wildfire smoke alerts")
    other_winner = await make_decided_proposal(other, "selected", await make_org("company", name="SmokeSense BV"))
    officer = await token_for(first.officer)

    answers = await asyncio.gather(
        client.post(f"/api/v1/challenges/{first.challenge.id}/awards", json=award_body(first.winner), headers=officer),
        client.post(f"/api/v1/challenges/{other.id}/awards", json=award_body(other_winner), headers=officer),
    )
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    year = now().year
    numbers = sorted(c["number"] for c in await Contract.select(Contract.number))
    assert numbers == [f"C-{year}-0001", f"C-{year}-0002"]


async def test_numbering_continues_after_contracts_numbered_before_the_counter(client):
    setting = await make_award_setting()
    year = now().year
    older = await make_challenge(buyer=setting.buyer, title="An older challenge")
    await Contract.insert(Contract(award=None, challenge=older.id, buyer=setting.buyer.id, company=setting.winner.company,
                                   number=f"C-{year}-0041"))
    response = await client.post(f"/api/v1/challenges/{setting.challenge.id}/awards", json=award_body(setting.winner),
                                 headers=await token_for(setting.officer))
    assert response.status_code == 201, response.text
    assert await Contract.exists().where(Contract.number == f"C-{year}-0042")
