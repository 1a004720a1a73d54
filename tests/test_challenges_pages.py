"""The pages, without JavaScript: a civil servant drafts, an officer publishes, a company finds it and asks, the team answers."""

import re

import httpx
import pytest

from marketplace.challenges.tables import Challenge, Question
from tests.factories import csrf_token, make_user, signed_in_client
from tests.factories_challenges import make_buyer_team, make_challenge


@pytest.fixture
async def new_client(app):
    clients = []

    async def make():
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)), base_url="http://testserver")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


FULL = {
    "summary": "Callers wait at peaks.", "problem": "Operators cannot tell urgent calls apart.", "affected_users": "Callers.",
    "tried_before": "", "desired_outcomes": "Faster triage.", "constraints": "", "topics": "public safety, ai",
    "cpv_codes": "72212000-4", "budget_cap": "25000", "max_duration_days": "60", "procedure": "light",
    "schedule_expression_of_interest": "", "schedule_short_proposal": "", "schedule_pitch": "", "qa_closes_at": "",
}


async def test_civil_servant_drafts_and_officer_publishes_through_the_pages(client, new_client):
    team = await make_buyer_team()
    servant = await signed_in_client(client, team.civil_servant)
    token = await csrf_token(servant, "/challenges/new")
    created = await servant.post("/challenges/new", data={"title": "Triage at peaks", "_csrf_token": token, "procedure": "light"})
    assert created.status_code == 303, created.text
    edit_url = created.headers["location"].split("?")[0]
    challenge_id = edit_url.split("/")[2]
    bad = await servant.post(edit_url, data={**FULL, "title": "Triage at peaks", "cpv_codes": "72212000-5", "_csrf_token": token})
    assert bad.status_code == 422 and "72212000-5 has a wrong or missing check digit: did you mean 72212000-4?" in bad.text
    saved = await servant.post(edit_url, data={**FULL, "title": "Triage at peaks", "_csrf_token": token})
    assert saved.status_code == 303, saved.text
    assert (await Challenge.select(Challenge.budget_cap_cents).where(Challenge.id == challenge_id).first())["budget_cap_cents"] == 2_500_000

    officer = await signed_in_client(await new_client(), team.officer)
    form = await officer.get(f"/challenges/{challenge_id}/publish")
    assert form.status_code == 200 and "Complete: it can be published." in form.text
    published = await officer.post(f"/challenges/{challenge_id}/publish", data={"publish_at": "", "_csrf_token": await csrf_token(officer, f"/challenges/{challenge_id}/publish")})
    assert published.status_code == 303, published.text

    anonymous = await new_client()
    found = await anonymous.get("/challenges", params={"q": "triage"})
    assert found.status_code == 200 and f'href="/challenges/{challenge_id}"' in found.text
    shown = await anonymous.get(f"/challenges/{challenge_id}")
    assert shown.status_code == 200
    assert "Expression of interest" in shown.text and "Your idea in a nutshell" in shown.text and "How to take part" in shown.text


async def test_publish_page_names_what_is_missing(client):
    team = await make_buyer_team()
    from tests.factories_challenges import make_draft

    draft = await make_draft(team.org, problem="", cpv_codes=[])
    officer = await signed_in_client(client, team.officer)
    page = await officer.get(f"/challenges/{draft.id}/publish")
    assert "Not ready yet" in page.text
    assert "<strong>problem</strong>" in page.text and "<strong>cpv_codes</strong>" in page.text


async def test_company_asks_the_team_answers_and_the_public_reads_it_anonymously(client, new_client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org, title="Triage at peaks")
    company_user = await make_user("company_member", name="Lena Claes")
    company = await signed_in_client(client, company_user)
    token = await csrf_token(company, f"/challenges/{challenge.id}")
    empty = await company.post(f"/challenges/{challenge.id}/questions", data={"text": "  ", "_csrf_token": token})
    assert empty.status_code == 422
    asked = await company.post(f"/challenges/{challenge.id}/questions", data={"text": "Which languages must the triage support?", "_csrf_token": token})
    assert asked.status_code == 303
    path, _, fragment = asked.headers["location"].partition("#")
    assert "?" not in path and fragment == "questions"  # the notice comes from the session, never the address
    assert "without your name" in (await company.get(path)).text
    question = await Question.objects().first()

    servant = await signed_in_client(await new_client(), team.civil_servant)
    listing = await servant.get(f"/challenges/{challenge.id}/questions")
    assert "Lena Claes" in listing.text and "cannot close" in listing.text
    answered = await servant.post(f"/questions/{question.id}/answer", data={"text": "Dutch, French and German.",
                                                                           "_csrf_token": await csrf_token(servant, f"/challenges/{challenge.id}/questions")})
    assert answered.status_code == 303

    public = await (await new_client()).get(f"/challenges/{challenge.id}")
    assert "Dutch, French and German." in public.text and "Lena Claes" not in public.text
    assert (await company.get(f"/challenges/{challenge.id}/questions")).status_code == 403


async def test_company_subscribes_to_alerts_through_the_page(client):
    member = await signed_in_client(client, await make_user("company_member"))
    token = await csrf_token(member, "/subscriptions")
    bad = await member.post("/subscriptions", data={"topics": "", "cpv_prefixes": "7x", "keywords": "", "_csrf_token": token})
    assert bad.status_code == 422 and "2 to 8 digits" in bad.text
    ok = await member.post("/subscriptions", data={"topics": "mobility", "cpv_prefixes": "72", "keywords": "triage", "_csrf_token": token})
    assert ok.status_code == 303
    assert "New challenges about mobility, or with a CPV code starting with 72, or mentioning triage." in (await member.get("/subscriptions")).text


async def test_my_challenges_lists_drafts_for_the_team_only(client, new_client):
    team = await make_buyer_team()
    await make_challenge(team.org, title="Published one")
    servant = await signed_in_client(client, team.civil_servant)
    assert "Published one" in (await servant.get("/my/challenges")).text
    company = await signed_in_client(await new_client(), await make_user("company_member"))
    assert (await company.get("/my/challenges")).status_code == 403
    assert (await company.get("/challenges/new")).status_code == 403


async def test_officer_closes_without_award_from_the_challenge_page(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    officer = await signed_in_client(client, team.officer)
    token = await csrf_token(officer, f"/challenges/{challenge.id}")
    unconfirmed = await officer.post(f"/challenges/{challenge.id}/close", data={"reason": "Reorganisation.", "_csrf_token": token})
    assert unconfirmed.status_code == 422 and "tick the box to confirm" in unconfirmed.text  # one click never ends it
    assert 'id="confirm-close" name="confirm" value="yes" required' in unconfirmed.text and "checked" not in unconfirmed.text.split('id="confirm-close"')[1][:120]
    assert (await Challenge.objects().where(Challenge.id == challenge.id).first()).status == "published"
    empty = await officer.post(f"/challenges/{challenge.id}/close", data={"reason": " ", "confirm": "yes", "_csrf_token": token})
    assert empty.status_code == 422 and "is required" in empty.text
    closed = await officer.post(f"/challenges/{challenge.id}/close", data={"reason": "Reorganisation.", "confirm": "yes", "_csrf_token": token})
    assert closed.status_code == 303
    assert (await Challenge.objects().where(Challenge.id == challenge.id).first()).status == "closed"
    archived = await officer.post(f"/challenges/{challenge.id}/archive", data={"_csrf_token": token})
    assert archived.status_code == 303
    assert (await Challenge.objects().where(Challenge.id == challenge.id).first()).status == "archived"


async def test_editor_and_publish_pages_refuse_the_wrong_people(client, new_client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org, published=False)
    company = await signed_in_client(client, await make_user("company_member"))
    assert (await company.get(f"/challenges/{challenge.id}/edit")).status_code == 403
    assert (await company.get(f"/challenges/{challenge.id}/publish")).status_code == 403
    assert (await company.get(f"/challenges/{challenge.id}")).status_code == 404
    servant = await signed_in_client(await new_client(), team.civil_servant)
    assert (await servant.get(f"/challenges/{challenge.id}/edit")).status_code == 200
    assert (await servant.get(f"/challenges/{challenge.id}/publish")).status_code == 403
    other_officer = await signed_in_client(await new_client(), (await make_buyer_team()).officer)
    assert (await other_officer.get(f"/challenges/{challenge.id}/publish")).status_code == 404
    anonymous = await new_client()
    assert (await anonymous.get("/challenges/new")).status_code in (302, 303, 401)
    assert (await anonymous.get("/subscriptions")).status_code in (302, 303, 401)


async def test_amending_through_the_editor_keeps_unchanged_deadlines(client):
    from datetime import timedelta

    import time_machine

    from marketplace.challenges.tables import ChallengeVersion
    from marketplace.core.clock import now

    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    with time_machine.travel(now() + timedelta(days=22)):  # the first stage and the Q&A have closed
        servant = await signed_in_client(client, team.civil_servant)
        edit = await servant.get(f"/challenges/{challenge.id}/edit")
        assert "What changed and why" in edit.text
        form = dict(re.findall(r'<input id="f-[^"]+" name="([^"]+)" type="[^"]+"\s+value="([^"]*)"', edit.text))
        for name in ("summary", "problem", "affected_users", "tried_before", "desired_outcomes", "constraints"):
            form[name] = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', edit.text).group(1).replace("&#39;", "'")
        form.update(summary="Sharper summary.", change_note="Clarified the summary.", _csrf_token=await csrf_token(servant, f"/challenges/{challenge.id}/edit"))
        saved = await servant.post(f"/challenges/{challenge.id}/edit", data=form)
        assert saved.status_code == 303, saved.text
    assert await ChallengeVersion.count().where(ChallengeVersion.challenge == challenge.id) == 2


@pytest.mark.parametrize(("lang", "amount"), [("en", "€30,000.00"), ("fr", "30\u202f000,00\xa0€"), ("nl", "€\xa030.000,00")])
async def test_a_budget_above_the_ceiling_names_the_ceiling_as_money(client, lang, amount):
    team = await make_buyer_team()
    servant = await signed_in_client(client, team.civil_servant)
    client.cookies.set("mp_lang", lang)
    token = await csrf_token(servant, "/challenges/new")
    refused = await servant.post("/challenges/new", data={**FULL, "title": "Triage", "budget_cap": "40000", "_csrf_token": token})
    assert refused.status_code == 422
    assert amount in refused.text and "cents" not in refused.text and "3000000" not in refused.text


async def test_the_editor_names_every_wrong_field_at_once(client):
    team = await make_buyer_team()
    servant = await signed_in_client(client, team.civil_servant)
    token = await csrf_token(servant, "/challenges/new")
    refused = await servant.post("/challenges/new", data={**FULL, "title": "T" * 300, "budget_cap": "lots", "qa_closes_at": "soon",
                                                          "_csrf_token": token})
    assert refused.status_code == 422
    for field in ("budget_cap", "qa_closes_at", "title"):
        assert f'id="f-{field}-error"' in refused.text, field
    assert "Title: enter at most 200 characters" in refused.text
