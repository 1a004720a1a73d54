"""Incubators act with consent: the company is told of every proposal made in its name (and can withdraw it),
and a portfolio request arrives as a notification naming the incubator and saying what consenting allows."""

from datetime import UTC, datetime

import time_machine

from marketplace.accounts.tables import PortfolioLink
from marketplace.mail.tables import Notification, OutboxMessage
from marketplace.procedures import engine
from tests.factories import csrf_token, make_org, make_user, signed_in_client, token_for
from tests.factories_proposals import make_open_challenge
from tests.test_proposals_journey import submit_valid

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _told(user, kind):
    """The user's notifications of `kind`, their titles as the user reads them (in the user's language), and mails."""
    from marketplace.core.i18n import in_locale
    from marketplace.mail.services import notification_title

    notes = await Notification.select().where((Notification.user == user.id) & (Notification.kind == kind))
    with in_locale(user.locale):
        notes = [{**n, "title": notification_title(n)} for n in notes]
    mails = await OutboxMessage.select().where((OutboxMessage.to_address == user.email) & (OutboxMessage.kind == kind))
    return notes, mails


async def test_the_company_is_told_in_its_language_when_an_incubator_proposes_and_submits_in_its_name(client):
    with time_machine.travel(T0, tick=False):
        challenge = await make_open_challenge(start=T0, title="Faster triage of 112 calls")
        incubator = await make_org("incubator", name="Brussels Starter Hub")
        amina = await make_user("incubator_member", org=incubator)
        company = await make_org("company", name="TriageVoice")
        lena = await make_user("company_member", org=company, locale="fr")
        bram = await make_user("company_member", org=company, locale="nl")
        outsider = await make_user("company_member")
        await PortfolioLink.insert(PortfolioLink(incubator=incubator.id, company=company.id, status="accepted"))
        h = await token_for(amina)
        made = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h, json={"company_id": str(company.id)})
        assert made.status_code == 201, made.text
        pid = made.json()["id"]

        notes, mails = await _told(lena, "proposal_started_by_incubator")
        assert len(notes) == 1 and len(mails) == 1
        assert "Brussels Starter Hub" in notes[0]["title"] and "Faster triage of 112 calls" in notes[0]["title"]
        assert notes[0]["link"] == f"/proposals/{pid}"
        assert "a commencé une proposition" in notes[0]["title"]  # in Lena's language
        assert "Brussels Starter Hub" in mails[0]["subject"] and f"/proposals/{pid}" in mails[0]["body_text"]
        assert "au nom de TriageVoice" in mails[0]["body_text"]
        notes_nl, mails_nl = await _told(bram, "proposal_started_by_incubator")
        assert len(notes_nl) == 1 and len(mails_nl) == 1 and "is een voorstel begonnen" in notes_nl[0]["title"]
        assert await _told(outsider, "proposal_started_by_incubator") == ([], [])
        assert await _told(amina, "proposal_started_by_incubator") == ([], [])

        spec = engine.latest(challenge.procedure_template).stages[0]
        await submit_valid(client, pid, spec, h)
        notes, mails = await _told(lena, "proposal_submitted_by_incubator")
        assert len(notes) == 1 and len(mails) == 1
        assert "Brussels Starter Hub" in notes[0]["title"] and notes[0]["link"] == f"/proposals/{pid}"
        assert "Brussels Starter Hub" in mails[0]["subject"] and "Faster triage of 112 calls" in mails[0]["body_text"]
        assert await _told(outsider, "proposal_submitted_by_incubator") == ([], [])

        # The company's own submissions do not tell it about itself.
        before = await Notification.count().where(Notification.kind == "proposal_submitted_by_incubator")
        await submit_valid(client, pid, spec, await token_for(lena))
        assert await Notification.count().where(Notification.kind == "proposal_submitted_by_incubator") == before

        # A company member withdraws the incubator's proposal from its page.
        member = await signed_in_client(client, lena)
        page = await member.get(f"/proposals/{pid}")
        assert page.status_code == 200 and f'action="/proposals/{pid}/withdraw"' in page.text
        token = await csrf_token(member, f"/proposals/{pid}")
        done = await member.post(f"/proposals/{pid}/withdraw", data={"confirm": "yes", "_csrf_token": token})
        assert done.status_code == 303
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=h)).json()["status"] == "withdrawn"


async def test_a_portfolio_request_tells_every_member_who_asks_and_what_consent_allows(client):
    incubator = await make_org("incubator", name="Brussels Starter Hub")
    amina = await make_user("incubator_member", org=incubator)
    company = await make_org("company", name="TriageVoice")
    lena = await make_user("company_member", org=company, locale="nl")
    sam = await make_user("company_member", org=company)
    outsider = await make_user("company_member")
    r = await client.post(f"/api/v1/organisations/{incubator.id}/portfolio", headers=await token_for(amina),
                          json={"company_id": str(company.id)})
    assert r.status_code == 201, r.text

    notes, mails = await _told(sam, "portfolio_request")
    assert len(notes) == 1 and len(mails) == 1
    assert "Brussels Starter Hub" in notes[0]["title"] and str(incubator.id) not in notes[0]["title"]
    assert notes[0]["link"] == "/account#portfolio"
    assert "start, edit and submit proposals" in notes[0]["body"] and "withdraw" in notes[0]["body"]
    assert "read-only" in mails[0]["body_text"] and "decline" in mails[0]["body_text"]
    notes_nl, mails_nl = await _told(lena, "portfolio_request")
    assert len(notes_nl) == 1 and "Brussels Starter Hub" in notes_nl[0]["title"] and "portefeuille" in notes_nl[0]["title"]
    assert await _told(outsider, "portfolio_request") == ([], [])

    member = await signed_in_client(client, sam)
    account = (await member.get("/account")).text
    assert "Brussels Starter Hub" in account and "start, edit and submit proposals" in account
    assert 'action="/account/portfolio/' in account
