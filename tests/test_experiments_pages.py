"""The experiment pages: the company delivers and sets up payouts, the buyer reviews and watches the
payments dashboard, and anyone reads the result card of a finished experiment."""

import httpx
import pytest

from marketplace.payments import payouts
from tests.factories import csrf_token, make_user, signed_in_client, token_for
from tests.factories_payments import PDF, deliver_webhooks, make_experiment, route_payments_to, top_up


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


@pytest.fixture
async def second_client(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50002)), base_url="http://testserver") as c:
        yield c


async def test_company_delivers_sets_up_payouts_and_is_paid_through_the_pages(client, second_client):
    experiment_id, _servant, officer, founder = await make_experiment()
    company = await signed_in_client(client, founder)
    page = await company.get(f"/experiments/{experiment_id}")
    assert page.status_code == 200
    assert "Set up payouts" in page.text and "Submit deliverable" in page.text
    milestone = (await company.get(f"/api/v1/experiments/{experiment_id}", headers=await token_for(founder))).json()["milestones"][0]["id"]

    token = await csrf_token(company, f"/experiments/{experiment_id}")
    sent = await company.post(f"/experiments/milestones/{milestone}/deliverables", data={"report": "Pilot report", "_csrf_token": token},
                              files=[("files", ("pilot.pdf", PDF, "application/pdf"))])
    assert sent.status_code == 303, sent.text
    assert "Deliverable submitted" in (await company.get(sent.headers["location"])).text

    # "Set up payouts" leads to the onboarding page; completing it brings the company back.
    token = await csrf_token(company, f"/experiments/{experiment_id}")
    setup = await company.post(f"/payouts/setup/{founder.org.id}", data={"_csrf_token": token, "next": f"/experiments/{experiment_id}"})
    assert setup.status_code == 303 and "/sandbox/stripe/connect/onboarding/" in setup.headers["location"]
    onboarding = httpx.URL(setup.headers["location"]).path
    assert "Complete onboarding" in (await company.get(onboarding)).text
    back = await company.post(onboarding)
    assert back.status_code == 303 and f"/payouts/setup/{founder.org.id}/done" in back.headers["location"]
    await deliver_webhooks()

    buyer = await signed_in_client(second_client, officer)
    review_page = await buyer.get(f"/experiments/{experiment_id}")
    assert "Save review" in review_page.text
    token = await csrf_token(buyer, f"/experiments/{experiment_id}")
    reviewed = await buyer.post(f"/experiments/milestones/{milestone}/review", data={"decision": "accept", "feedback": "", "_csrf_token": token})
    assert reviewed.status_code == 303
    dashboard = await buyer.get("/payments")
    assert dashboard.status_code == 200 and "30 days left to pay" in dashboard.text

    await top_up(1_000_000)
    assert await payouts.execute_due_payouts() == 1
    page = await company.get(f"/experiments/{experiment_id}")
    assert "Paid on" in page.text and "Set up payouts" not in page.text


async def test_a_review_without_feedback_for_changes_is_explained_on_the_page(client):
    experiment_id, servant, _officer, founder = await make_experiment()
    headers = await token_for(founder)
    milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=headers)).json()["milestones"][0]["id"]
    await client.post(f"/api/v1/milestones/{milestone}/deliverables", headers=headers, data={"report": "x"})
    buyer = await signed_in_client(client, servant)
    token = await csrf_token(buyer, f"/experiments/{experiment_id}")
    refused = await buyer.post(f"/experiments/milestones/{milestone}/review", data={"decision": "request_changes", "feedback": "", "_csrf_token": token})
    assert refused.status_code == 303
    assert "not saved" in (await buyer.get(refused.headers["location"])).text


async def test_result_card_is_public_once_the_experiment_ends(client):
    experiment_id, servant, _officer, _founder = await make_experiment()
    assert (await client.get(f"/results/{experiment_id}")).status_code == 404  # still running
    await client.post(f"/api/v1/experiments/{experiment_id}/outcome", headers=await token_for(servant),
                      json={"result": "failed", "learnings": "Old phone lines were too noisy.", "follow_on": "stop"})
    card = await client.get(f"/results/{experiment_id}")
    assert card.status_code == 200 and "Old phone lines were too noisy." in card.text
    assert experiment_id in (await client.get("/results")).text


async def test_experiment_pages_are_for_the_parties_only(client):
    experiment_id, _servant, _officer, _founder = await make_experiment()
    assert (await client.get(f"/experiments/{experiment_id}")).status_code in (302, 303)  # to sign-in
    outsider = await signed_in_client(client, await make_user("company_member"))
    assert (await outsider.get(f"/experiments/{experiment_id}")).status_code == 404
    assert (await outsider.get("/payments")).status_code == 200
    incubator = await make_user("incubator_member")
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other:
        await signed_in_client(other, incubator)
        assert (await other.get("/payments")).status_code == 200  # its portfolio's payouts, read only


async def test_ending_the_experiment_preselects_nothing_and_asks_for_confirmation(client):
    import re as _re

    experiment_id, servant, _officer, _founder = await make_experiment()
    buyer = await signed_in_client(client, servant)
    page = (await buyer.get(f"/experiments/{experiment_id}")).text
    outcome = page.split('id="outcome"')[1].split("</section>")[0]
    assert _re.search(r'<option value="" selected disabled>', outcome)
    assert outcome.count("selected") == 2  # only the "choose" prompts of the two lists
    assert "ends the experiment" in outcome and 'name="confirm" value="yes" required' in outcome
    token = await csrf_token(buyer, f"/experiments/{experiment_id}")
    refused = await buyer.post(f"/experiments/{experiment_id}/outcome", data={"result": "succeeded", "learnings": "x",
                                                                              "follow_on": "stop", "_csrf_token": token})
    assert refused.status_code == 303
    assert "tick the box to confirm" in (await buyer.get(refused.headers["location"])).text
