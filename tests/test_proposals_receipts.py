"""Every submission gets a receipt, by e-mail and on the proposal page: the time, the version and a SHA-256 of what was sent."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import time_machine

from marketplace.mail.tables import OutboxMessage
from marketplace.proposals.receipts import receipt_sha256
from tests.factories import make_org, make_user, signed_in_client, token_for
from tests.factories_proposals import make_open_challenge

T0 = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
ANSWERS = {"idea": "Transcribe and triage calls in real time.", "motivation": "We answered 112 calls."}


async def test_a_submission_sends_a_receipt_with_time_version_and_hash(client):
    with time_machine.travel(T0, tick=False):
        challenge = await make_open_challenge(await make_org("public_body"), start=T0)
        company = await make_org("company", description="Two paramedics.")
        lena = await make_user("company_member", org=company, name="Lena Claes")
        headers = await token_for(lena)
        pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=headers)).json()["id"]
        await client.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=headers, json={"answers": ANSWERS})
        submitted = await client.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=headers)
        assert submitted.status_code == 200, submitted.text

    stage = submitted.json()["stages"][0]
    answers = stage["answers"]
    expected = hashlib.sha256(json.dumps({"answers": answers, "documents": []}, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode()).hexdigest()
    assert stage["versions"][0]["sha256"] == expected == receipt_sha256(answers, [])

    mail = await OutboxMessage.select().where(OutboxMessage.kind == "submission_receipt").first()
    assert mail["to_address"] == lena.email
    assert mail["subject"].startswith("Receipt: ") and "version 1" in mail["subject"]
    assert "Version: 1" in mail["body_text"] and "6 Apr 2026, 11:00 CEST" in mail["body_text"]
    assert f"SHA-256: {expected}" in mail["body_text"]

    page = (await (await signed_in_client(client, lena)).get(f"/proposals/{pid}")).text
    assert "Submission receipts" in page and expected in page


def test_the_receipt_hash_changes_with_any_answer_or_document():
    base = receipt_sha256({"idea": "x"}, [])
    assert receipt_sha256({"idea": "y"}, []) != base
    assert receipt_sha256({"idea": "x"}, [{"document": "deck", "filename": "d.pdf", "sha256": "ab"}]) != base
    assert receipt_sha256({"idea": "x"}, []) == base  # the same content, the same receipt
