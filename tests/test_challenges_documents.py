"""A challenge carries documents (annexes, data samples, a regulation): the buyer team attaches them to the draft
or, once published, through an amendment; every version keeps its SHA-256 and stays downloadable; bidders are told."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import time_machine

from marketplace.challenges.tables import Challenge, ChallengeDocument, ChallengeVersion
from marketplace.mail.tables import Notification, OutboxMessage
from marketplace.transparency.audit import chain_pending
from marketplace.transparency.tables import AuditEvent
from tests.factories import csrf_token, make_user, signed_in_client, token_for
from tests.factories_challenges import make_buyer_team, make_challenge

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CSV_V1 = b"call_id,waited_seconds\n1,12\n2,48\n"
CSV_V2 = b"call_id,waited_seconds,region\n1,12,BXL\n2,48,VLG\n"


def upload(title: str, name: str, content: bytes, **fields: str) -> dict:
    return {"data": {"title": title, **fields}, "files": {"file": (name, content)}}


async def test_a_draft_carries_documents_and_publication_makes_them_public(client):
    team = await make_buyer_team()
    draft = await make_challenge(team.org, published=False)
    servant = await token_for(team.civil_servant)
    url = f"/api/v1/challenges/{draft.id}/documents"

    response = await client.post(url, headers=servant, **upload("Call volumes 2025 (sample)", "volumes.csv", CSV_V1))
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["version"] == 1 and doc["current"] and doc["superseded_at"] is None and doc["challenge_version"] is None
    assert doc["sha256"] == hashlib.sha256(CSV_V1).hexdigest() and doc["size"] == len(CSV_V1)
    assert doc["content_type"].startswith("text/csv") and doc["filename"] == "volumes.csv"

    assert (await client.get(url)).status_code == 404  # a draft's documents are its team's
    assert (await client.get(url, headers=await token_for(await make_user("company_member")))).status_code == 404
    assert [d["id"] for d in (await client.get(url, headers=await token_for(team.officer))).json()["items"]] == [doc["id"]]

    published = await client.post(f"/api/v1/challenges/{draft.id}/publish", headers=await token_for(team.officer))
    assert published.status_code == 200, published.text
    listed = (await client.get(url)).json()
    assert listed["next_cursor"] is None and [d["title"] for d in listed["items"]] == ["Call volumes 2025 (sample)"]
    download = await client.get(doc["url"])
    assert download.status_code == 200 and download.content == CSV_V1
    assert download.headers["x-document-sha256"] == doc["sha256"] and "attachment" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_replacing_a_document_on_a_published_challenge_is_an_amendment_a_bidder_hears_of(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    bidder = await make_user("company_member", locale="nl")
    started = await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=await token_for(bidder))
    assert started.status_code == 201, started.text
    servant = await token_for(team.civil_servant)
    url = f"/api/v1/challenges/{challenge.id}/documents"
    first = await client.post(url, headers=servant, **upload("Call volumes", "volumes.csv", CSV_V1, change_note="Added the call volumes."))
    assert first.status_code == 201, first.text
    assert first.json()["challenge_version"] == 2

    second = await client.post(url, headers=servant, **upload("Call volumes, with regions", "volumes-v2.csv", CSV_V2,
                                                              replaces=first.json()["document_id"],
                                                              change_note="The call volumes now say which region."))
    assert second.status_code == 201, second.text
    new = second.json()
    assert new["version"] == 2 and new["document_id"] == first.json()["document_id"] and new["challenge_version"] == 3

    items = (await client.get(url)).json()["items"]
    assert [(d["version"], d["current"]) for d in items] == [(1, False), (2, True)]
    assert items[0]["superseded_at"] is not None and items[0]["sha256"] == hashlib.sha256(CSV_V1).hexdigest()
    assert (await client.get(items[0]["url"])).content == CSV_V1  # the superseded version stays downloadable
    assert (await client.get(items[1]["url"])).content == CSV_V2

    versions = (await client.get(f"/api/v1/challenges/{challenge.id}/versions")).json()["items"]
    assert [v["change_note"] for v in versions][1:] == ["Added the call volumes.", "The call volumes now say which region."]
    mails = await OutboxMessage.select().where((OutboxMessage.to_address == bidder.email) & (OutboxMessage.kind == "challenge_amended"))
    assert len(mails) == 2 and "The call volumes now say which region." in mails[1]["body_text"]
    assert await Notification.count().where((Notification.user == bidder.id) & (Notification.kind == "challenge_amended")) == 2
    await chain_pending()
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).where(AuditEvent.subject_id == str(challenge.id))]
    assert actions.count("challenge.document_added") == 1 and actions.count("challenge.document_replaced") == 1


async def test_bad_uploads_are_refused_naming_the_field_and_change_nothing(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    servant = await token_for(team.civil_servant)
    url = f"/api/v1/challenges/{challenge.id}/documents"
    kept = await client.post(url, headers=servant, **upload("Regulation", "rule.pdf", PDF, change_note="The regulation."))
    assert kept.status_code == 201, kept.text
    cases = [
        (upload("", "a.pdf", PDF, change_note="x"), "title"),
        (upload("Sample", "a.pdf", PDF), "change_note"),
        (upload("Sample", "a.exe", b"MZ...", change_note="x"), "file"),
        (upload("Sample", "a.pdf", b"not a pdf", change_note="x"), "file"),
        (upload("Sample", "a.pdf", b"", change_note="x"), "file"),
        (upload("Sample", "a.pdf", PDF + b"x" * (10 * 1024 * 1024), change_note="x"), "file"),
        (upload("Sample", "a.pdf", PDF, change_note="x", replaces="00000000-0000-0000-0000-000000000001"), "replaces"),
        (upload("Regulation", "rule.pdf", PDF, change_note="x", replaces=kept.json()["id"]), "file"),  # the same bytes again
        ({"data": {"title": "No file", "change_note": "x"}, "files": {"file": ("", b"")}}, "file"),
    ]
    for body, field in cases:
        response = await client.post(url, headers=servant, **body)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.json())
    assert await ChallengeDocument.count().where(ChallengeDocument.challenge == challenge.id) == 1
    assert (await Challenge.objects().where(Challenge.id == challenge.id).first()).version == 2
    assert await ChallengeVersion.count().where(ChallengeVersion.challenge == challenge.id) == 2

    await Challenge.update({Challenge.status: "closed"}).where(Challenge.id == challenge.id)
    closed = await client.post(url, headers=servant, **upload("Late", "late.pdf", PDF, change_note="x"))
    assert closed.status_code == 409, closed.text


async def test_the_team_attaches_from_the_page_and_readers_see_version_hash_and_belgian_time(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org, published=False, title="Quiet trams")
    page_client = await signed_in_client(client, team.civil_servant)
    with time_machine.travel(datetime(2026, 12, 3, 9, 30, tzinfo=UTC), tick=False):
        token = await csrf_token(page_client, f"/challenges/{challenge.id}/documents")
        refused = await page_client.post(f"/challenges/{challenge.id}/documents",
                                         data={"_csrf_token": token, "title": ""}, files={"file": ("noise.csv", CSV_V1)})
        assert refused.status_code == 422
        assert "Document title" in refused.text and 'id="f-title-error"' in refused.text
        response = await page_client.post(f"/challenges/{challenge.id}/documents", files={"file": ("noise.csv", CSV_V1)},
                                          data={"_csrf_token": token, "title": "Noise measurements"}, follow_redirects=False)
        assert response.status_code == 303, response.text
    page = await page_client.get(f"/challenges/{challenge.id}")
    assert "Noise measurements" in page.text and hashlib.sha256(CSV_V1).hexdigest() in page.text
    assert "3 Dec 2026, 10:30 CET" in page.text  # uploaded at 09:30 UTC, shown in Belgian time
    link = re.search(r'href="(/challenges/[^"]+/documents/[^"]+)" download', page.text).group(1)
    assert (await page_client.get(link)).content == CSV_V1


async def test_a_reader_without_a_session_cannot_fetch_a_draft_document_from_the_page_link(client):
    team = await make_buyer_team()
    draft = await make_challenge(team.org, published=False)
    added = await client.post(f"/api/v1/challenges/{draft.id}/documents", headers=await token_for(team.civil_servant),
                              **upload("Annex", "annex.pdf", PDF))
    assert added.status_code == 201, added.text
    assert (await client.get(f"/challenges/{draft.id}/documents/{added.json()['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/challenges/{draft.id}/documents/{added.json()['id']}")).status_code == 404


async def test_a_file_sent_without_a_file_name_is_a_problem_naming_the_file_not_a_server_error(client):
    team = await make_buyer_team()
    draft = await make_challenge(team.org, published=False)
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'.encode() + b"\xff\xd8\xff\xe0 JPEG bytes"
            + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nPhoto\r\n--{boundary}--\r\n'.encode())
    headers = {**await token_for(team.civil_servant), "content-type": f"multipart/form-data; boundary={boundary}"}
    response = await client.post(f"/api/v1/challenges/{draft.id}/documents", headers=headers, content=body)
    assert response.status_code == 400, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["file"]
    assert await ChallengeDocument.count().where(ChallengeDocument.challenge == draft.id) == 0


async def test_the_brief_lists_the_documents_with_their_hashes_and_the_answered_questions(client):
    from tests.factories import make_org
    from tests.factories_contracts import pdf_text

    team = await make_buyer_team()
    challenge = await make_challenge(team.org, title="Quiet trams")
    servant = await token_for(team.civil_servant)
    url = f"/api/v1/challenges/{challenge.id}/documents"
    first = await client.post(url, headers=servant, **upload("Noise regulation", "rule.pdf", PDF, change_note="The regulation."))
    second = await client.post(url, headers=servant, **upload("Noise measurements", "noise.csv", CSV_V1, change_note="Measurements."))
    newer = await client.post(url, headers=servant, **upload("Noise measurements 2026", "noise.csv", CSV_V2,
                                                             replaces=second.json()["id"], change_note="Newer measurements."))
    assert {first.status_code, second.status_code, newer.status_code} == {201}
    asker = await make_user("company_member", org=await make_org("company", name="Silent Wheels BV"))
    asked = await client.post(f"/api/v1/challenges/{challenge.id}/questions", headers=await token_for(asker),
                              json={"text": "May the sensors stay on the trams after the test?"})
    assert asked.status_code == 201, asked.text

    _pages, text = pdf_text((await client.get(f"/api/v1/challenges/{challenge.id}/brief")).content)
    flat = " ".join(text.split())
    assert "Noise regulation" in flat and "Noise measurements 2026" in flat
    unbroken = "".join(text.split())
    for content in (PDF, CSV_V1, CSV_V2):  # every version, the superseded one too, with its hash
        assert hashlib.sha256(content).hexdigest() in unbroken
    assert "superseded" in flat
    assert "May the sensors stay" not in flat  # not answered yet: not public

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        answered = await client.post(f"/api/v1/questions/{asked.json()['id']}/answer", headers=servant,
                                     json={"text": "Yes, if the company removes them within 30 days of the end."})
        assert answered.status_code == 200, answered.text
        _pages, text = pdf_text((await client.get(f"/api/v1/challenges/{challenge.id}/brief?lang=fr")).content)
    flat = " ".join(text.split())
    assert "Questions et réponses" in flat
    assert "May the sensors stay on the trams after the test?" in flat
    assert "Yes, if the company removes them within 30 days of the end." in flat
    assert "Silent Wheels" not in flat  # the asker is never named


async def test_published_documents_are_tender_documents_in_ocds_and_the_review_finds_no_error(client, settings):
    from tests.factories_transparency import data_review, ocds_errors

    team = await make_buyer_team()
    draft = await make_challenge(team.org, published=False)
    servant = await token_for(team.civil_servant)
    url = f"/api/v1/challenges/{draft.id}/documents"
    annex = await client.post(url, headers=servant, **upload("Call volumes", "volumes.csv", CSV_V1))
    assert annex.status_code == 201, annex.text
    ocid = f"{settings.ocds_ocid_prefix}-{draft.id}"
    assert (await client.get(f"/api/v1/opendata/ocds/records/{ocid}")).status_code == 404  # a draft is not open data
    assert (await client.post(f"/api/v1/challenges/{draft.id}/publish", headers=await token_for(team.officer))).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=5)):
        newer = await client.post(url, headers=servant, **upload("Call volumes by region", "volumes.csv", CSV_V2,
                                                                 replaces=annex.json()["id"], change_note="Regions added."))
        assert newer.status_code == 201, newer.text

    record = (await client.get(f"/api/v1/opendata/ocds/records/{ocid}")).json()
    assert ocds_errors(record, "record-package") == []
    review = data_review(record)
    assert review["errors"] == {"validation": [], "conformance": {}, "closed_codelists": {}}, review["errors"]
    releases = record["records"][0]["releases"]
    at_publication = next(r for r in releases if r["tag"] == ["tender"])
    assert [d["title"] for d in at_publication["tender"]["documents"] if d["documentType"] == "biddingDocuments"] == ["Call volumes"]
    documents = {d["title"]: d for d in record["records"][0]["compiledRelease"]["tender"]["documents"]}
    old, new = documents["Call volumes"], documents["Call volumes by region"]
    assert old["documentType"] == new["documentType"] == "biddingDocuments"
    assert hashlib.sha256(CSV_V1).hexdigest() in old["description"] and "Superseded by version 2" in old["description"]
    assert hashlib.sha256(CSV_V2).hexdigest() in new["description"] and new["format"] == "text/csv"
    assert (await client.get(new["url"].removeprefix(settings.base_url))).content == CSV_V2


async def test_a_registered_bidder_is_told_when_the_civil_servant_replaces_a_document_from_the_page(client):
    from tests.factories import mailed_link

    team = await make_buyer_team()
    challenge = await make_challenge(team.org, title="Quiet trams")
    added = await client.post(f"/api/v1/challenges/{challenge.id}/documents", headers=await token_for(team.civil_servant),
                              **upload("Noise measurements", "noise.csv", CSV_V1, change_note="Measurements added."))
    assert added.status_code == 201, added.text
    # A founder signs her company up, confirms her address and starts a proposal: she is now a bidder.
    registration = {"email": "lena@silentwheels.be", "password": "a long enough passphrase", "name": "Lena Claes",
                    "organisation": {"kind": "company", "name": "Silent Wheels", "country": "BE", "size": "micro"}}
    assert (await client.post("/api/v1/auth/register", json=registration)).status_code == 202
    confirmed = await client.post("/api/v1/auth/register/confirm", json={"token": await mailed_link(registration["email"], "confirm_registration")})
    assert confirmed.status_code == 201, confirmed.text
    token = await client.post("/api/v1/auth/tokens", json={"email": registration["email"], "password": registration["password"]})
    api = {"Authorization": f"Bearer {token.json()['token']}"}
    assert (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=api)).status_code == 201

    page_client = await signed_in_client(client, team.civil_servant)
    csrf = await csrf_token(page_client, f"/challenges/{challenge.id}/documents")
    missing_note = await page_client.post(f"/challenges/{challenge.id}/documents", files={"file": ("noise.csv", CSV_V2)},
                                          data={"_csrf_token": csrf, "title": "Noise measurements 2026", "replaces": added.json()["document_id"]})
    assert missing_note.status_code == 422 and 'id="f-change_note-error"' in missing_note.text
    replaced = await page_client.post(f"/challenges/{challenge.id}/documents", files={"file": ("noise.csv", CSV_V2)}, follow_redirects=False,
                                      data={"_csrf_token": csrf, "title": "Noise measurements 2026", "replaces": added.json()["document_id"],
                                            "change_note": "New noise measurements from 2026."})
    assert replaced.status_code == 303, replaced.text

    mail = await OutboxMessage.select().where((OutboxMessage.to_address == registration["email"]) & (OutboxMessage.kind == "challenge_amended"))
    assert len(mail) == 1 and "New noise measurements from 2026." in mail[0]["body_text"] and f"/challenges/{challenge.id}" in mail[0]["body_text"]
    items = (await client.get(f"/api/v1/challenges/{challenge.id}/documents", headers=api)).json()["items"]
    current = next(d for d in items if d["current"])
    assert current["title"] == "Noise measurements 2026" and current["version"] == 2
    assert (await client.get(current["url"], headers=api)).content == CSV_V2


async def test_the_demo_triage_challenge_carries_a_document_once(client):
    from marketplace.demo import load_demo

    await load_demo()
    await load_demo()
    triage = await Challenge.objects().where(Challenge.title == "Prioritise 112 emergency calls by severity").first()
    items = (await client.get(f"/api/v1/challenges/{triage.id}/documents")).json()["items"]
    assert [d["filename"] for d in items] == ["calls-per-hour-2022-02-18.csv"]
    content = (await client.get(items[0]["url"])).content
    assert content.startswith(b"hour,calls,abandoned") and hashlib.sha256(content).hexdigest() == items[0]["sha256"]
    assert items[0]["sha256"] in (await client.get(f"/challenges/{triage.id}")).text


async def test_a_scheduled_challenge_takes_no_document_and_another_bodys_civil_servant_none_at_all(client):
    team = await make_buyer_team()
    draft = await make_challenge(team.org, published=False)
    published = await make_challenge(team.org)
    stranger = await token_for(await make_user("civil_servant"))  # of another public body
    assert (await client.post(f"/api/v1/challenges/{draft.id}/documents", headers=stranger, **upload("Annex", "a.pdf", PDF))).status_code == 404
    refused = await client.post(f"/api/v1/challenges/{published.id}/documents", headers=stranger,
                                **upload("Annex", "a.pdf", PDF, change_note="Mine."))
    assert refused.status_code == 403, refused.text
    await Challenge.update({Challenge.status: "scheduled"}).where(Challenge.id == draft.id)
    scheduled = await client.post(f"/api/v1/challenges/{draft.id}/documents", headers=await token_for(team.civil_servant),
                                  **upload("Annex", "a.pdf", PDF))
    assert scheduled.status_code == 409, scheduled.text
    assert await ChallengeDocument.count() == 0
    assert (await Challenge.objects().where(Challenge.id == published.id).first()).version == 1
