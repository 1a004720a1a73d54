"""The award journey on the pages: the officer's form (errors next to the fields), the standstill
view with an objection and its answer, the contract page signed by both parties."""

import re
from datetime import timedelta

import httpx
import time_machine

from marketplace.awards.contracts import issue_due_contracts
from marketplace.awards.tables import Award, Contract
from marketplace.core.auth import load_principal
from marketplace.core.clock import now
from tests.factories import csrf_token, make_user, signed_in_client
from tests.factories_contracts import make_award_setting


def _form(s, csrf, price="20000", second_amount="8000"):
    due = (now() + timedelta(days=40)).date().isoformat()
    return {"_csrf_token": csrf, "proposal_id": str(s.winner.id), "price": price, "language": "en",
            "m1_title": "Prototype", "m1_amount": "12 000", "m1_due_date": due, "m1_deliverable": "A working prototype",
            "m2_title": "Report", "m2_amount": second_amount, "m2_due_date": due, "m2_deliverable": "The final report"}


async def _client(app, user):
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    c = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    return await signed_in_client(c, user)


async def test_officer_awards_from_the_form_and_sees_errors_next_to_the_fields(app):
    s = await make_award_setting()
    officer = await _client(app, s.officer)
    listing = await officer.get("/contracts")
    assert "Ready to award" in listing.text and f"/challenges/{s.challenge.id}/award" in listing.text
    form_page = await officer.get(f"/challenges/{s.challenge.id}/award")
    assert form_page.status_code == 200
    assert "TriageVoice BV" in form_page.text and "Ranking" in form_page.text
    csrf = await csrf_token(officer, f"/challenges/{s.challenge.id}/award")

    bad = await officer.post(f"/challenges/{s.challenge.id}/award", data=_form(s, csrf, second_amount="7000"))
    assert bad.status_code == 422
    assert 'id="f-m1_amount-error"' in bad.text and "add up to" in bad.text
    assert await Award.count() == 0

    good = await officer.post(f"/challenges/{s.challenge.id}/award", data=_form(s, csrf))
    assert good.status_code == 303, good.text
    award_page = await officer.get(good.headers["location"])
    assert award_page.status_code == 200 and "€20,000.00" in award_page.text
    await officer.aclose()


async def test_loser_objects_buyer_answers_then_both_sign_on_the_contract_page(app):
    s = await make_award_setting()
    officer = await _client(app, s.officer)
    csrf = await csrf_token(officer, f"/challenges/{s.challenge.id}/award")
    done = await officer.post(f"/challenges/{s.challenge.id}/award", data=_form(s, csrf))
    award_url = done.headers["location"].split("?")[0]

    loser = await _client(app, s.loser_member)
    view = await loser.get(award_url)
    assert "Contester cette attribution" in view.text  # Thomas reads French
    csrf_l = re.search(r'name="_csrf_token" value="([^"]+)"', view.text).group(1)
    objected = await loser.post(f"{award_url}/objections", data={"_csrf_token": csrf_l, "text": "Our team scored higher."})
    assert objected.status_code == 303

    view = await officer.get(award_url)
    assert "Our team scored higher." in view.text
    objection_id = re.search(r'action="/objections/([^/]+)/answer"', view.text).group(1)
    answered = await officer.post(f"/objections/{objection_id}/answer", data={"_csrf_token": csrf, "text": "It did not: see the ranking."})
    assert answered.status_code == 303
    assert "It did not: see the ranking." in (await loser.get(award_url)).text

    with time_machine.travel(now() + timedelta(days=11), tick=False):
        assert await issue_due_contracts() == 1
    contract = await Contract.objects().first()
    page = await officer.get(f"/contracts/{contract.id}")
    assert "Sign for the buyer" in page.text and contract.document_sha256 in page.text
    pdf = await officer.get(f"/contracts/{contract.id}/document.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    unconfirmed = await officer.post(f"/contracts/{contract.id}/sign", data={
        "_csrf_token": csrf, "party": "buyer", "document_sha256": contract.document_sha256})
    assert unconfirmed.status_code == 422  # the confirmation box was not ticked: refused next to it
    assert 'id="confirm-buyer-error"' in unconfirmed.text and "Confirm that you have read the contract" in unconfirmed.text
    assert 'aria-describedby="confirm-buyer-error"' in unconfirmed.text
    assert (await Contract.objects().first()).status == "issued"
    assert (await officer.post(f"/contracts/{contract.id}/sign", data={"_csrf_token": csrf, "party": "buyer", "confirm": "yes",
                                                                       "document_sha256": contract.document_sha256})).status_code == 303
    winner = await _client(app, s.winner_member)
    page = await winner.get(f"/contracts/{contract.id}")
    assert "Sign for the company" in page.text and "Marc Dubois" in page.text
    csrf_w = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    assert 'name="confirm" value="yes" required' in page.text and "I have read the contract (PDF)" in page.text
    signed = await winner.post(f"/contracts/{contract.id}/sign", data={"_csrf_token": csrf_w, "party": "company", "confirm": "yes",
                                                                       "document_sha256": contract.document_sha256})
    assert signed.status_code == 303
    assert (await Contract.objects().first()).status == "active"
    assert "active" in (await winner.get("/contracts")).text
    assert (await loser.get(f"/contracts/{contract.id}")).status_code == 404
    for c in (officer, loser, winner):
        await c.aclose()


async def test_pages_refuse_the_wrong_roles(app):
    s = await make_award_setting()
    company = await _client(app, s.winner_member)
    assert (await company.get(f"/challenges/{s.challenge.id}/award")).status_code == 403
    civil = await _client(app, s.civil_servant)
    assert (await civil.get(f"/challenges/{s.challenge.id}/award")).status_code == 403
    for c in (company, civil):
        await c.aclose()


async def test_the_award_form_is_prefilled_from_the_proposals_price_and_milestones(app):
    from tests.factories_contracts import make_decided_proposal

    s = await make_award_setting()
    second = await make_decided_proposal(s.challenge, "selected", answers={
        "approach": "Route ambulances by live traffic.",
        "price": {"amount": 1_850_050, "currency": "EUR"},
        "milestones": [
            {"title": "Replay on last winter's calls", "amount": {"amount": 850_050, "currency": "EUR"},
             "deliverable": "Replay report", "due_in_days": 30},
            {"title": "Shadow pilot", "amount": {"amount": 1_000_000, "currency": "EUR"}, "deliverable": "Pilot report"},
        ]})
    officer = await _client(app, s.officer)
    # Two proposals wait for an award: nothing is prefilled until the officer picks one.
    plain = await officer.get(f"/challenges/{s.challenge.id}/award")
    assert 'value="18500.50"' not in plain.text
    assert f"/challenges/{s.challenge.id}/award?proposal_id={second.id}" in plain.text

    filled = await officer.get(f"/challenges/{s.challenge.id}/award?proposal_id={second.id}")
    assert filled.status_code == 200
    assert f'<option value="{second.id}" selected>' in filled.text
    assert 'name="price" type="text"\n      value="18500.50"' in filled.text
    assert 'value="Replay on last winter\'s calls"' in filled.text or "Replay on last winter&#39;s calls" in filled.text
    assert 'value="8500.50"' in filled.text and 'value="10000"' in filled.text and 'value="Pilot report"' in filled.text
    starts_on = (now() + timedelta(days=11)).date()
    assert f'value="{(starts_on + timedelta(days=30)).isoformat()}"' in filled.text  # due_in_days after the start
    assert f'value="{(starts_on + timedelta(days=90)).isoformat()}"' in filled.text  # spread over the 90 days

    # The officer may keep the values as they are: the award goes through with them.
    csrf = await csrf_token(officer, f"/challenges/{s.challenge.id}/award")
    values = dict(re.findall(r'name="((?:price|m\d_\w+))" type="\w+"\s+value="([^"]*)"', filled.text))
    done = await officer.post(f"/challenges/{s.challenge.id}/award",
                              data={"_csrf_token": csrf, "proposal_id": str(second.id), "language": "en", **values})
    assert done.status_code == 303, done.text
    award = await Award.objects().first()
    assert award.amount_cents == 1_850_050 and award.proposal == second.id
    await officer.aclose()


async def test_officer_upholds_an_objection_on_the_page_and_the_award_is_cancelled(app):
    s = await make_award_setting()
    officer = await _client(app, s.officer)
    csrf = await csrf_token(officer, f"/challenges/{s.challenge.id}/award")
    award_url = (await officer.post(f"/challenges/{s.challenge.id}/award", data=_form(s, csrf))).headers["location"].split("?")[0]
    loser = await _client(app, s.loser_member)
    csrf_l = re.search(r'name="_csrf_token" value="([^"]+)"', (await loser.get(award_url)).text).group(1)
    await loser.post(f"{award_url}/objections", data={"_csrf_token": csrf_l, "text": "The scores were swapped."})

    view = await officer.get(award_url)
    assert "Uphold this objection and cancel the award" in view.text
    objection_id = re.search(r'action="/objections/([^/]+)/answer"', view.text).group(1)
    done = await officer.post(f"/objections/{objection_id}/answer",
                              data={"_csrf_token": csrf, "text": "Right: they were.", "upheld": "yes"})
    assert done.status_code == 303 and "upheld" in (await officer.get(done.headers["location"])).text
    assert (await Award.objects().first()).status == "cancelled"
    assert "Annulée : une contestation a été jugée fondée" in (await loser.get(award_url)).text
    listing = await officer.get("/contracts")
    assert f"/challenges/{s.challenge.id}/award" in listing.text  # its proposal is selected again: ready to award anew
    for c in (officer, loser):
        await c.aclose()


async def test_award_and_contract_pages_show_local_dates_and_scrollable_tables_and_the_links(app):
    from marketplace.awards.services import links_for_proposal
    from marketplace.mail.tables import OutboxMessage

    s = await make_award_setting()
    officer = await _client(app, s.officer)
    csrf = await csrf_token(officer, f"/challenges/{s.challenge.id}/award")
    award_url = (await officer.post(f"/challenges/{s.challenge.id}/award", data=_form(s, csrf))).headers["location"].split("?")[0]
    award = await Award.objects().first()
    due = (now() + timedelta(days=40)).date()
    view = (await officer.get(award_url)).text
    assert f">{due.isoformat()}<" not in view and f'<time datetime="{due.isoformat()}">' in view
    assert f"{due.day} {due.strftime('%B')} {due.year}" in view  # "9 January 2027", the user's locale
    assert 'class="table-wrap"' in view and "overflow-x:auto" in view

    contract = await Contract.objects().first()
    links = await links_for_proposal(s.winner.id, await load_principal(s.winner_member.id, "session"))
    assert links == {"award": award_url, "contract": f"/contracts/{contract.id}", "letter": f"/letters/{s.winner.id}.pdf"}
    assert await links_for_proposal(s.loser.id, await load_principal(s.officer.id, "session")) == {"letter": f"/letters/{s.loser.id}.pdf"}
    incubator = await make_user("incubator_member")  # follows a proposal, but is no party to its papers
    assert await links_for_proposal(s.winner.id, await load_principal(incubator.id, "session")) == {"award": award_url}
    mail = await OutboxMessage.objects().where(OutboxMessage.kind == "award_won").first()
    assert f"/contracts/{contract.id}" in mail.body_text

    winner = await _client(app, s.winner_member)
    listing = (await winner.get("/contracts")).text
    assert f"/letters/{s.winner.id}.pdf" in listing and award_url in listing
    letter = await winner.get(f"/letters/{s.winner.id}.pdf")  # the link answers (the route used to never match)
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    assert (await winner.get(f"/letters/{s.loser.id}.pdf")).status_code == 404  # not theirs
    assert (await winner.get(f"/letters/{s.winner.id}")).status_code == 404
    with time_machine.travel(now() + timedelta(days=11), tick=False):
        await issue_due_contracts()
    page = (await winner.get(f"/contracts/{contract.id}")).text
    assert f"{award.starts_on.day} {award.starts_on.strftime('%B')} {award.starts_on.year}" in page
    assert f">{award.starts_on.isoformat()}" not in page and 'class="table-wrap"' in page
    for c in (officer, winner):
        await c.aclose()
