"""Transparency: anyone reads what came of a challenge (outcomes, OCDS open data valid against the
offline 1.1.5 schemas) without any sealed proposal content leaking; platform admins read the
hash-chained audit trail, and `marketplace audit verify` catches a tampered event."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.transparency import audit
from marketplace.transparency.tables import AuditEvent
from tests.factories import make_user, token_for
from tests.factories_payments import deliver, onboard_company, route_payments_to, top_up
from tests.factories_transparency import make_running_contract, ocds_errors


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


async def _paid_milestone(client):
    """The company delivers, the buyer accepts, the worker pays: every step leaves an audit event."""
    setting, award, contract, experiment_id = await make_running_contract()
    company = await token_for(setting.winner_member)
    milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).json()["milestones"][0]["id"]
    await onboard_company(client, setting.winner_member, company)
    assert (await deliver(client, milestone, company)).status_code == 201
    accepted = await client.post(f"/api/v1/milestones/{milestone}/review", headers=await token_for(setting.civil_servant),
                                 json={"decision": "accept", "feedback": ""})
    assert accepted.status_code == 200, accepted.text
    await top_up(5_000_000)
    from marketplace.payments.payouts import execute_due_payouts

    assert await execute_due_payouts() == 1
    return setting, award, contract, experiment_id, milestone


async def test_outcomes_show_counts_awards_results_and_days_without_sealed_content(client):
    setting, award, contract, experiment_id, _milestone = await _paid_milestone(client)
    response = await client.get("/api/v1/outcomes")
    assert response.status_code == 200
    [outcome] = response.json()["items"]
    assert outcome["challenge_id"] == str(setting.challenge.id) and outcome["status"] == "awarded"
    assert outcome["counts"]["proposals"] == 2
    assert outcome["decisions"] == {"short_proposal": {"advance": 1, "reject": 1}}
    assert outcome["awards"][0]["company"] == "TriageVoice BV" and outcome["awards"][0]["contract"]["number"] == "C-2026-0042"
    assert outcome["experiments"][0]["paid_cents"] == 1_500_000
    assert outcome["days_to_pay"] == 0 and outcome["days_to_decide"] == 1.0
    text = response.text
    for secret in ("voice assistant that listens", "Three weeks of shadow triage", "GeoFlow", "lacks a measurable target"):
        assert secret not in text

    page = await client.get("/results")  # the one public place for results: experiments and closed challenges
    assert page.status_code == 200 and "TriageVoice BV" in page.text and "GeoFlow" not in page.text
    assert "Short proposal" in page.text and "short_proposal" not in page.text  # the stage by its name, never its key
    client.cookies.set("mp_lang", "nl")
    assert "Kort voorstel" in (await client.get("/results")).text
    client.cookies.delete("mp_lang")
    assert 'href="/results"' in (await client.get("/challenges")).text  # linked from every page's header and footer
    old = await client.get("/outcomes")
    assert old.status_code == 301 and old.headers["location"] == "/results#challenges"  # old links still land


async def test_open_challenges_are_not_outcomes_yet(client):
    from tests.factories_contracts import make_challenge

    await make_challenge(status="published")
    assert (await client.get("/api/v1/outcomes")).json()["items"] == []
    assert "No challenge has closed yet" in (await client.get("/results")).text
    await client.get("/language/fr", params={"next": "/results"})
    assert "Aucun défi n'est encore clôturé" in (await client.get("/results")).text.replace("&#39;", "'")


async def test_ocds_release_and_record_packages_validate_against_the_offline_schemas(client, settings):
    setting, award, contract, _experiment_id, _milestone = await _paid_milestone(client)
    package = (await client.get("/api/v1/opendata/ocds/releases")).json()
    assert ocds_errors(package, "release-package") == []
    ocid = f"{settings.ocds_ocid_prefix}-{setting.challenge.id}"
    tags = [r["tag"][0] for r in package["releases"] if r["ocid"] == ocid]
    assert tags[0] == "tender" and {"tenderUpdate", "award", "contract", "implementation"} <= set(tags)
    award_release = next(r for r in package["releases"] if r["tag"] == ["award"])
    assert award_release["awards"][0]["suppliers"][0]["name"] == "TriageVoice BV"
    assert award_release["awards"][0]["value"] == {"amount": 15000.0, "currency": "EUR"}
    dumped = json.dumps(package)
    assert "GeoFlow" not in dumped and "voice assistant that listens" not in dumped

    record = await client.get(f"/api/v1/opendata/ocds/records/{ocid}")
    assert record.status_code == 200
    assert ocds_errors(record.json(), "record-package") == []
    compiled = record.json()["records"][0]["compiledRelease"]
    assert compiled["tender"]["numberOfTenderers"] == 2 and compiled["tender"]["status"] == "complete"
    assert compiled["contracts"][0]["implementation"]["transactions"][0]["value"]["amount"] == 15000.0

    later = await client.get("/api/v1/opendata/ocds/releases", params={"since": "2999-01-01"})
    assert later.status_code == 204 and later.content == b""  # a package holds at least one release
    assert (await client.get("/api/v1/opendata/ocds/releases", params={"since": "yesterday"})).status_code == 422


async def test_ocid_prefix_is_a_setting_and_unknown_or_draft_processes_are_404(client, override_settings):
    from tests.factories_contracts import make_challenge

    override_settings(ocds_ocid_prefix="ocds-test01")
    draft = await make_challenge(status="draft")
    published = await make_challenge(status="published")
    assert (await client.get(f"/api/v1/opendata/ocds/records/ocds-test01-{draft.id}")).status_code == 404
    assert (await client.get(f"/api/v1/opendata/ocds/records/ocds-mkt000-{published.id}")).status_code == 404
    assert (await client.get("/api/v1/opendata/ocds/records/ocds-test01-nonsense")).status_code == 404
    record = (await client.get(f"/api/v1/opendata/ocds/records/ocds-test01-{published.id}")).json()
    assert ocds_errors(record, "record-package") == []
    assert "numberOfTenderers" not in record["records"][0]["compiledRelease"]["tender"]  # not while it runs
    releases = (await client.get("/api/v1/opendata/ocds/releases")).json()["releases"]
    assert {r["ocid"] for r in releases} == {f"ocds-test01-{published.id}"}


async def test_payments_leave_a_hash_chained_audit_trail_only_admins_read(client):
    _setting, _award, _contract, _experiment_id, milestone = await _paid_milestone(client)
    admin = await token_for(await make_user(admin=True))
    trail = (await client.get("/api/v1/audit", headers=admin)).json()["items"]
    actions = [e["action"] for e in trail]
    for expected in ("payment_account.updated", "deliverable.submitted", "milestone.accepted", "payout.created", "payout.paid"):
        assert expected in actions
    assert trail[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(trail, trail[1:], strict=False))
    payout_id = next(e["subject_id"] for e in trail if e["action"] == "payout.paid")
    one = (await client.get("/api/v1/audit", headers=admin, params={"subject": f"payout:{payout_id}"})).json()["items"]
    assert [e["action"] for e in one] == ["payout.created", "payout.paid"]
    assert (await client.get("/api/v1/audit", headers=admin, params={"subject": "payout"})).status_code == 422
    assert (await client.get("/api/v1/audit", headers=admin, params={"after": trail[0]["seq"], "limit": 1})).json()["next_after"] is not None

    for role in ("civil_servant", "procurement_officer", "company_member", "incubator_member", "evaluator", "buyer_admin"):
        refused = await client.get("/api/v1/audit", headers=await token_for(await make_user(role)))
        assert refused.status_code == 403, role
    assert (await client.get("/api/v1/audit")).status_code == 401
    assert milestone


def _marketplace(*args: str) -> subprocess.CompletedProcess:
    """The real command line, in its own process, against the test database (DATABASE_URL)."""
    return subprocess.run([sys.executable, "-m", "marketplace", *args], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=60, check=False)


async def test_audit_verify_passes_on_an_intact_chain_and_names_the_first_tampered_event():
    for i in range(5):
        await audit.record(None, "test.event", "thing", i, {"n": i, "note": "é"})
    assert (await audit.verify()).ok
    intact = _marketplace("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "5 events" in intact.stdout

    third = await AuditEvent.select().where(AuditEvent.seq == 3).first()
    await AuditEvent.update({AuditEvent.data: json.dumps({"n": 999, "note": "é"})}).where(AuditEvent.id == third["id"])
    result = await audit.verify()
    assert not result.ok and result.broken_seq == 3 and result.checked == 2
    broken = _marketplace("audit", "verify")
    assert broken.returncode == 1
    assert "event #3" in broken.stderr and str(third["id"]) in broken.stderr


async def test_audit_verify_detects_a_deleted_event():
    for i in range(3):
        await audit.record(None, "test.event", "thing", i, {})
    assert await audit.chain_pending() == 3
    await AuditEvent.delete().where(AuditEvent.seq == 2)
    result = await audit.verify()
    assert not result.ok and result.broken_seq == 2 and "missing" in result.reason, "the missing event is named"


async def test_an_event_recorded_in_a_failed_transaction_is_rolled_back_with_it():
    from marketplace.core.db import transaction

    with pytest.raises(RuntimeError):
        async with transaction():
            await audit.record(None, "test.event", "thing", 1, {})
            raise RuntimeError("the change failed")
    assert await AuditEvent.count() == 0
    await audit.record(None, "test.event", "thing", 2, {})
    assert (await audit.verify()).ok


async def test_a_failed_experiment_and_its_challenge_are_in_the_same_public_place(client):
    from marketplace.experiments.tables import Experiment

    setting, _award, _contract, experiment_id = await make_running_contract()
    await Experiment.update({Experiment.status: "finished", Experiment.outcome: "failed", Experiment.follow_on: "stop",
                             Experiment.learnings: "Voice triage did not cope with noise."}).where(Experiment.id == experiment_id)
    page = (await client.get("/results")).text
    assert f'href="/results/{experiment_id}"' in page  # the failed experiment
    assert f'id="outcome-{setting.challenge.id}"' in page  # and the awarded challenge it came from
