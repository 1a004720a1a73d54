"""The payments dashboard as its readers use it: the buyer sees what it owes (due, overdue, days
left, late interest), an incubator sees its portfolio's payouts, and the pages fit a phone."""

from datetime import timedelta

import httpx
import pytest

from marketplace.accounts.tables import PortfolioLink
from marketplace.core.clock import now
from marketplace.payments.tables import Payout
from tests.factories import csrf_token, make_user, signed_in_client, token_for
from tests.factories_payments import deliver, make_experiment, route_payments_to


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


async def _accepted_milestone(client, amount_cents: int = 500_000):
    experiment_id, servant, officer, founder = await make_experiment(amount_cents=amount_cents)
    headers = await token_for(founder)
    milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=headers)).json()["milestones"][0]["id"]
    assert (await deliver(client, milestone, headers)).status_code == 201
    reviewed = await client.post(f"/api/v1/milestones/{milestone}/review", headers=await token_for(officer),
                                 json={"decision": "accept", "feedback": ""})
    assert reviewed.status_code == 200, reviewed.text
    return experiment_id, milestone, servant, officer, founder


async def test_buyer_sees_what_it_owes_and_the_late_interest_once_overdue(client):
    _experiment_id, milestone, servant, _officer, _founder = await _accepted_milestone(client)
    buyer = await signed_in_client(client, servant)
    page = (await buyer.get("/payments")).text
    assert "What you owe" in page and "30 days left to pay" in page
    assert "€5,000.00" in page or "5,000.00" in page

    # Forty days after acceptance (moved back in the database: the buyer's session would have expired).
    moment = now()
    await Payout.update({Payout.accepted_at: moment - timedelta(days=40), Payout.due_by: moment - timedelta(days=10)}).where(
        Payout.milestone == milestone)
    page = (await buyer.get("/payments")).text
    assert "10 days late" in page
    # 5000 EUR x (2.15% + 8%) x 10 / 365 = EUR 13.90, and EUR 40 fixed compensation.
    assert "13.90" in page and "40.00" in page
    assert "Late interest so far" in page


async def test_a_company_sees_no_owed_summary(client):
    _experiment_id, _milestone, _servant, _officer, founder = await _accepted_milestone(client)
    page = (await (await signed_in_client(client, founder)).get("/payments")).text
    assert "What you owe" not in page and "30 days left to pay" in page


async def test_incubator_sees_its_consenting_portfolio_payouts_only(client):
    _experiment_id, _milestone, _servant, _officer, founder = await _accepted_milestone(client)
    other_experiment, *_ = await make_experiment(amount_cents=123_400)
    incubator = await make_user("incubator_member")
    await PortfolioLink.insert(PortfolioLink(incubator=incubator.org.id, company=founder.org.id, status="accepted"))
    page = await (await signed_in_client(client, incubator)).get("/payments")
    assert page.status_code == 200
    assert "Payments" in page.text and "Milestone 1" in page.text and "agreed to be in your portfolio" in page.text
    assert "1,234.00" not in page.text and "What you owe" not in page.text
    # Read only: no links to the parties' experiment, contract or payment statement.
    assert "/experiments/" + str(_experiment_id) not in page.text and "/payments/statements/" not in page.text


async def test_payments_refuses_people_without_an_organisation(client):
    loner = await make_user()
    assert (await (await signed_in_client(client, loner)).get("/payments")).status_code == 403
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as anonymous:
        assert (await anonymous.get("/payments")).status_code in (302, 303, 401)


async def test_submit_deliverable_form_is_hidden_while_the_deliverable_awaits_review(client):
    experiment_id, _servant, _officer, founder = await make_experiment(milestones=1)
    headers = await token_for(founder)
    milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=headers)).json()["milestones"][0]["id"]
    company = await signed_in_client(client, founder)
    assert "Submit deliverable" in (await company.get(f"/experiments/{experiment_id}")).text
    await deliver(client, milestone, headers)
    page = (await company.get(f"/experiments/{experiment_id}")).text
    assert "Submit deliverable" not in page and "waiting for the buyer" in page


async def test_redirects_keep_their_fragment_and_carry_no_notice(client):
    founder = await make_user("company_member")
    company = await signed_in_client(client, founder)
    done = await company.get(f"/payouts/setup/{founder.org.id}/done", params={"next": "/experiments/x#milestone-1"})
    assert done.status_code == 303
    location = done.headers["location"]
    assert location == "/experiments/x#milestone-1"

    token = await csrf_token(company, "/payments")
    setup = await company.post(f"/payouts/setup/{founder.org.id}", data={"_csrf_token": token, "next": "/payments#setup"})
    assert setup.status_code == 303
    # Through the onboarding page and back: the fragment survives the round trip and still comes last.
    onboarded = await company.post(httpx.URL(setup.headers["location"]).path)
    assert onboarded.status_code == 303, onboarded.text
    back = httpx.URL(onboarded.headers["location"])
    done = await company.get(back.path, params=back.params)
    assert done.status_code == 303
    assert done.headers["location"] == "/payments#setup"  # the confirmation travels in the flash cookie, the fragment stays


async def test_tables_sit_in_a_focusable_scroll_region_on_phones(client):
    _experiment_id, _milestone, servant, _officer, _founder = await _accepted_milestone(client)
    buyer = await signed_in_client(client, servant)
    for path in ("/payments", "/experiments"):
        page = (await buyer.get(path)).text
        assert page.count("<table") == page.count('class="table-wrap" role="region"'), path
        assert 'tabindex="0" style="overflow-x:auto"' in page
    # The sandbox's onboarding page wraps its long account ids instead of widening the page.
    from marketplace.settings import get_settings
    from tests.factories_payments import stripe

    account = await stripe().v1.accounts.create_async({"type": "express", "country": "BE", "email": "long@example.be"})
    base = get_settings().base_url
    link = await stripe().v1.account_links.create_async(
        {"account": account.id, "type": "account_onboarding", "refresh_url": f"{base}/r", "return_url": f"{base}/d"})
    onboarding = await client.get(httpx.URL(link.url).path)
    assert 'style="overflow-wrap:anywhere"' in onboarding.text


async def test_the_payments_page_shows_what_is_coming_as_well_as_what_is_due(client):
    experiment_id, servant, _officer, founder = await make_experiment(amount_cents=1_300_000, milestones=2)
    headers = await token_for(founder)
    first = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=headers)).json()["milestones"][0]["id"]
    assert (await deliver(client, first, headers)).status_code == 201
    page = (await (await signed_in_client(client, servant)).get("/payments")).text
    assert "Nothing is due yet." in page and "Nothing is due." not in page
    assert "Coming: work not yet accepted" in page
    assert "awaiting the buyer" in page and "€13,000.00" in page  # the delivered milestone awaits review
    assert "work due on" in page  # the second one is still to be delivered
    assert f'href="/experiments/{experiment_id}"' in page
