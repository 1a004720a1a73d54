"""Generated documents: real PDFs (A4, tagged, titled, fonts embedded), stored once, versioned on change."""

import hashlib
import io

import pypdf

from marketplace.documents.rendering import render_pdf
from marketplace.documents.services import get_or_render, latest_document, read_bytes, store_document
from marketplace.documents.tables import Document
from tests.factories import make_org
from tests.factories_contracts import make_challenge, pdf_text


async def test_published_challenge_brief_is_a_public_tagged_a4_pdf(client):
    challenge = await make_challenge(buyer=await make_org("public_body", name="City of Ghent"))
    response = await client.get(f"/api/v1/challenges/{challenge.id}/brief")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    data = response.content
    assert response.headers["x-document-sha256"] == hashlib.sha256(data).hexdigest()
    pages, text = pdf_text(data)
    assert pages == 1
    assert "Faster triage of 112 calls" in text and "City of Ghent" in text
    assert "€30,000.00" in text and "90 days" in text and "Page 1 of 1" in text
    flat = " ".join(text.split())
    assert "Expression of interest" in flat and "Light: expression of interest" in flat  # names, never keys
    assert "expression_of_interest" not in text and "light\n" not in text
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en" and "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert reader.metadata.title == "Challenge brief: Faster triage of 112 calls"
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert all("/FontFile2" in f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
               or "/FontFile3" in f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
               for f in fonts.values())
    assert any("DejaVu" in f.get_object()["/BaseFont"] for f in fonts.values())


async def test_brief_is_served_from_storage_the_second_time(client, file_storage):
    challenge = await make_challenge()
    first = await client.get(f"/api/v1/challenges/{challenge.id}/brief?lang=nl")
    second = await client.get(f"/api/v1/challenges/{challenge.id}/brief?lang=nl")
    assert first.content == second.content
    assert await Document.count().where(Document.subject_id == str(challenge.id)) == 1
    doc = await latest_document("challenge_brief", "challenge", challenge.id, "nl")
    assert doc.language == "nl" and doc.version == 1


async def test_draft_or_unknown_challenge_has_no_brief(client):
    draft = await make_challenge(status="draft")
    assert (await client.get(f"/api/v1/challenges/{draft.id}/brief")).status_code == 404
    assert (await client.get("/api/v1/challenges/not-a-uuid/brief")).status_code == 404
    assert (await client.get("/api/v1/challenges/00000000-0000-0000-0000-000000000000/brief")).status_code == 404


async def test_same_content_keeps_its_version_and_a_change_makes_a_new_one(file_storage):
    def pdf(title):
        return render_pdf("challenge_brief.html", "en", reference="x", challenge=_Fake(title=title), buyer={"name": "B"},
                          stages=[], topics=[], cpv_codes=[])

    first = await store_document("challenge_brief", "challenge", "c1", "en", pdf("One"))
    again = await store_document("challenge_brief", "challenge", "c1", "en", pdf("One"))
    changed = await store_document("challenge_brief", "challenge", "c1", "en", pdf("Two"))
    assert again.id == first.id and first.version == 1
    assert changed.version == 2 and changed.sha256 != first.sha256
    assert await read_bytes(first) != await read_bytes(changed)
    assert hashlib.sha256(await read_bytes(changed)).hexdigest() == changed.sha256


async def test_get_or_render_does_not_render_what_is_stored():
    stored = await store_document("statement", "payout", "p1", "fr", b"%PDF-1.7 stored")
    served = await get_or_render("statement", "payout", "p1", "fr", "no-such-template.html")
    assert served.id == stored.id


class _Fake(dict):
    def __init__(self, title):
        super().__init__(title=title, summary="S", problem="P", affected_users="", tried_before="", desired_outcomes="",
                         constraints="", budget_cap_cents=100, currency="EUR", max_duration_days=10,
                         procedure_template="light", published_at=None, version=1)

    __getattr__ = dict.__getitem__


async def test_a_lost_version_race_inside_an_outer_transaction_retries_with_the_next_version(monkeypatch, file_storage):
    """Two renders raced: the version this one read is taken. Inside the caller's transaction the
    failed insert is rolled back to a savepoint (PostgreSQL would abort the transaction otherwise)."""
    from marketplace.core.db import transaction
    from marketplace.documents import services

    first = await store_document("contract", "contract", "c-race", "en", b"%PDF-1.7 first")
    real = services.latest_document
    calls = []

    async def stale_then_real(*args):
        calls.append(args)
        return None if len(calls) == 1 else await real(*args)  # the first read misses the other render

    monkeypatch.setattr(services, "latest_document", stale_then_real)
    async with transaction():
        second = await store_document("contract", "contract", "c-race", "en", b"%PDF-1.7 second")
        assert await Document.count() == 2  # the transaction is still usable after the lost race
    assert first.version == 1 and second.version == 2 and len(calls) == 2


def test_the_page_footer_prints_any_reference_as_written():
    """A document's footer strings are CSS strings: a middle dot or an accent prints as itself, never as `u00b7`."""
    from marketplace.documents.rendering import html_to_pdf, render_html

    html = render_html("documents/base.html", "fr", reference="Relevé · 2026 — Liège")
    _pages, text = pdf_text(html_to_pdf(html))
    assert "Relevé · 2026 — Liège" in text and "u00b7" not in text and "u00e9" not in text
