"""Stage documents: a company uploads the documents its stage declares (type, signature and size
checked), only while the stage is open; they stay sealed like the answers; a required one blocks
submission."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from marketplace.challenges.tables import ChallengeStage
from marketplace.procedures import engine
from marketplace.proposals import services
from tests.factories import csrf_token, make_org, make_user, signed_in_client, token_for
from tests.factories_proposals import (
    make_buyer_team,
    make_evaluator,
    make_open_challenge,
    make_proposal,
    stage_row,
    valid_answers,
)

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
PDF = b"%PDF-1.7\n% a tiny annex\n"


@pytest.fixture
def clock():
    travel = time_machine.travel(T0, tick=False)
    traveller = travel.start()
    yield traveller
    travel.stop()


async def at_short_proposal():
    """A light challenge whose second stage (declaring an optional PDF `annex`) is open, with a company's proposal at it."""
    buyer = await make_org("public_body")
    challenge = await make_open_challenge(buyer, start=T0 - timedelta(days=60))
    await ChallengeStage.update({ChallengeStage.status: ChallengeStage.Status.decided}).where(
        (ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == "expression_of_interest"))
    await ChallengeStage.update({ChallengeStage.status: ChallengeStage.Status.open, ChallengeStage.opens_at: T0 - timedelta(days=1),
                                 ChallengeStage.closes_at: T0 + timedelta(days=10)}).where(
        (ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == "short_proposal"))
    company = await make_org("company")
    proposal = await make_proposal(challenge, company, stage="short_proposal", status="advanced")
    from marketplace.proposals.tables import ProposalStage

    await ProposalStage.update({ProposalStage.status: "draft", ProposalStage.version: 0}).where(ProposalStage.proposal == proposal.id)
    member = await make_user("company_member", org=company)
    proposal.member = member  # type: ignore[attr-defined]
    team = await token_for(member)
    return buyer, challenge, proposal, team


def url(proposal, key="annex", stage="short_proposal"):
    return f"/api/v1/proposals/{proposal.id}/stages/{stage}/documents/{key}"


async def test_the_team_uploads_a_pdf_annex_and_downloads_it(client, clock, file_storage):
    _buyer, _challenge, proposal, team = await at_short_proposal()
    r = await client.post(url(proposal), headers=team, files={"file": ("annex.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    assert r.json()["filename"] == "annex.pdf" and r.json()["size"] == len(PDF)
    r = await client.post(url(proposal), headers=team, files={"file": ("annex v2.pdf", PDF + b"v2", "application/pdf")})
    assert r.status_code == 201, r.text
    r = await client.get(url(proposal), headers=team)
    assert r.status_code == 200 and r.content == PDF + b"v2" and r.headers["content-length"] == str(len(PDF) + 2)
    assert 'filename="annex v2.pdf"' in r.headers["content-disposition"]


async def test_wrong_type_wrong_content_unknown_key_and_too_large_are_named(client, clock):
    _buyer, _challenge, proposal, team = await at_short_proposal()
    for name, content in [("annex.docx", b"PK\x03\x04zip"), ("annex.pdf", b"PK\x03\x04 not a pdf"),
                          ("annex.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))]:
        r = await client.post(url(proposal), headers=team, files={"file": (name, content, "application/pdf")})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "documents.annex"
    r = await client.post(url(proposal, "slides"), headers=team, files={"file": ("s.pdf", PDF, "application/pdf")})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "documents.slides"


async def test_no_upload_after_the_deadline(client, clock):
    _buyer, challenge, proposal, team = await at_short_proposal()
    clock.move_to((await stage_row(challenge, "short_proposal"))["closes_at"])
    r = await client.post(url(proposal), headers=team, files={"file": ("annex.pdf", PDF, "application/pdf")})
    assert r.status_code == 409, r.text


async def test_sealed_from_competitors_and_from_the_buyer_until_the_deadline(client, clock):
    buyer, challenge, proposal, team = await at_short_proposal()
    assert (await client.post(url(proposal), headers=team, files={"file": ("annex.pdf", PDF, "application/pdf")})).status_code == 201
    r = await client.put(f"/api/v1/proposals/{proposal.id}/stages/short_proposal", headers=team,
                         json={"answers": valid_answers(engine.latest("light").stage("short_proposal"))})
    assert r.status_code == 200, r.text
    assert (await client.post(f"/api/v1/proposals/{proposal.id}/stages/short_proposal/submit", headers=team)).status_code == 200
    competitor = await token_for(await make_user("company_member"))
    civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
    evaluator = await token_for(await make_evaluator(challenge, buyer))
    for who in (competitor, civil, evaluator):
        assert (await client.get(url(proposal), headers=who)).status_code == 404
    assert (await client.post(url(proposal), headers=competitor, files={"file": ("a.pdf", PDF, "application/pdf")})).status_code == 404
    clock.move_to((await stage_row(challenge, "short_proposal"))["closes_at"] + timedelta(minutes=1))
    assert (await client.get(url(proposal), headers=competitor)).status_code == 404
    for who in (civil, evaluator):
        r = await client.get(url(proposal), headers=who)
        assert r.status_code == 200 and r.content == PDF


async def test_a_required_document_missing_blocks_the_submission(client, clock, monkeypatch):
    _buyer, challenge, proposal, team = await at_short_proposal()
    light = engine.latest("light")
    stages = tuple(dataclasses.replace(s, documents=tuple(dataclasses.replace(d, required=True) for d in s.documents))
                   for s in light.stages)
    monkeypatch.setattr(services, "template_of", lambda _c: dataclasses.replace(light, stages=stages))
    r = await client.put(f"/api/v1/proposals/{proposal.id}/stages/short_proposal", headers=team,
                         json={"answers": valid_answers(light.stage("short_proposal"))})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/proposals/{proposal.id}/stages/short_proposal/submit", headers=team)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["documents.annex"]
    assert (await client.post(url(proposal), headers=team, files={"file": ("annex.pdf", PDF, "application/pdf")})).status_code == 201
    r = await client.post(f"/api/v1/proposals/{proposal.id}/stages/short_proposal/submit", headers=team)
    assert r.status_code == 200, r.text


async def test_the_stage_form_page_uploads_a_document_and_links_it(client, clock):
    _buyer, _challenge, proposal, _team = await at_short_proposal()
    browser = await signed_in_client(client, proposal.member)
    page = await browser.get(f"/proposals/{proposal.id}")
    assert 'enctype="multipart/form-data"' in page.text and 'for="doc-annex"' in page.text and "PDF, up to 10 MB" in page.text
    token = await csrf_token(browser, f"/proposals/{proposal.id}")
    action = f"/proposals/{proposal.id}/stages/short_proposal/documents/annex"
    r = await browser.post(action, data={"_csrf_token": token}, files={"file": ("annex.docx", b"PK\x03\x04", "application/pdf")})
    assert r.status_code == 303 and "not uploaded" in (await browser.get(r.headers["location"])).text
    r = await browser.post(action, data={"_csrf_token": token}, files={"file": ("annex.pdf", PDF, "application/pdf")})
    assert r.status_code == 303, r.text
    page = await browser.get(f"/proposals/{proposal.id}")
    assert f'href="{url(proposal)}">annex.pdf</a>' in page.text
    assert (await browser.post(action, files={"file": ("annex.pdf", PDF, "application/pdf")})).status_code == 403
