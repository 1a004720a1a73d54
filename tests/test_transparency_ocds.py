"""OCDS as the open-contracting tools read it: every stage of a process as a release, Belgian
identifiers, payments as implementation transactions, records merged by ocdsmerge, and the Open
Contracting Partnership's own data review (libcoveocds, offline) finding no error."""

from __future__ import annotations

import json

import pytest

from marketplace.transparency.ocds import MERGE_RULES
from tests.factories_payments import route_payments_to
from tests.factories_transparency import OCDS_DIR, data_review, ocds_errors
from tests.test_transparency import _paid_milestone


@pytest.fixture(autouse=True)
def _sandbox(app):
    route_payments_to(app)


def test_merge_rules_are_those_of_the_offline_1_1_5_schema():
    from ocdsmerge.rules import get_merge_rules

    assert MERGE_RULES == get_merge_rules(str(OCDS_DIR / "release-schema.json"))


async def test_a_paid_milestone_is_an_implementation_transaction_and_the_review_finds_no_error(client, settings):
    setting, award, contract, _experiment_id, milestone = await _paid_milestone(client)
    ocid = f"{settings.ocds_ocid_prefix}-{setting.challenge.id}"
    record = (await client.get(f"/api/v1/opendata/ocds/records/{ocid}")).json()
    assert ocds_errors(record, "record-package") == []
    review = data_review(record)
    assert review["errors"] == {"validation": [], "conformance": {}, "closed_codelists": {}}, review["errors"]

    compiled = record["records"][0]["compiledRelease"]
    assert compiled["tag"] == ["compiled"]  # merged by ocdsmerge, not by hand
    buyer = next(p for p in compiled["parties"] if "buyer" in p["roles"])
    assert buyer["address"]["countryName"] == "Belgium"
    supplier = next(p for p in compiled["parties"] if "supplier" in p["roles"])
    assert supplier["name"] == "TriageVoice BV"
    contract_out = compiled["contracts"][0]
    assert contract_out["dateSigned"] and contract_out["status"] == "active"
    transaction = contract_out["implementation"]["transactions"][0]
    assert transaction["id"].startswith("tr_") and transaction["value"] == {"amount": 15000.0, "currency": "EUR"}
    assert transaction["payer"]["id"] == str(setting.buyer.id) and transaction["payee"]["name"] == "TriageVoice BV"
    milestones = {m["type"]: m for m in contract_out["implementation"]["milestones"]}
    assert milestones["delivery"]["status"] == "met" and milestones["payment"]["status"] == "met"
    stages = compiled["tender"]["milestones"]
    assert [m["code"] for m in stages] == [s["key"] for s in (await client.get(
        f"/api/v1/challenges/{setting.challenge.id}")).json()["stages"]]
    assert compiled["planning"]["budget"]["amount"]["currency"] == "EUR"
    tags = [r["tag"][0] for r in record["records"][0]["releases"]]
    assert tags[0] == "tender" and {"tenderUpdate", "award", "contract", "implementation"} <= set(tags)


async def test_belgian_enterprise_numbers_are_org_id_identifiers(client, settings):
    from marketplace.accounts.tables import Organisation

    setting, *_ = await _paid_milestone(client)
    await Organisation.update({Organisation.enterprise_number: "0308.357.159"}).where(Organisation.id == setting.buyer.id)
    ocid = f"{settings.ocds_ocid_prefix}-{setting.challenge.id}"
    compiled = (await client.get(f"/api/v1/opendata/ocds/records/{ocid}")).json()["records"][0]["compiledRelease"]
    buyer = next(p for p in compiled["parties"] if "buyer" in p["roles"])
    assert buyer["identifier"] == {"scheme": "BE-BCE_KBO", "id": "0308357159", "legalName": buyer["name"]}


async def test_an_amendment_is_a_tender_amendment_release(client, settings):
    from marketplace.challenges.tables import ChallengeVersion
    from tests.factories_contracts import make_challenge

    challenge = await make_challenge(status="published")
    await ChallengeVersion.insert(ChallengeVersion(challenge=challenge.id, version=2, snapshot="{}",
                                                   change_note="Deadline moved by a week."))
    package = (await client.get("/api/v1/opendata/ocds/releases")).json()
    assert ocds_errors(package, "release-package") == []
    amendment = next(r for r in package["releases"] if r["tag"] == ["tenderAmendment"])
    assert amendment["tender"]["amendments"][-1]["rationale"] == "Deadline moved by a week."
    assert data_review(package)["errors"]["validation"] == []


async def test_the_demo_data_passes_the_data_review(client):
    from marketplace.demo import load_demo

    await load_demo()
    package = (await client.get("/api/v1/opendata/ocds/releases")).json()
    assert ocds_errors(package, "release-package") == []
    review = data_review(package)
    assert review["errors"] == {"validation": [], "conformance": {}, "closed_codelists": {}}, review["errors"]
    assert review["warnings"]["fields"] == [], review["warnings"]["fields"]  # nothing outside the standard
    dumped = json.dumps(package)
    assert "proposal" not in json.dumps([r.get("tender", {}).get("documents") for r in package["releases"]])
    assert "score" not in dumped.lower()


async def test_the_bulk_download_is_one_gzipped_package_rebuilt_by_the_worker(client):
    import gzip
    import hashlib

    from marketplace.opendata.exports import rebuild_ocds_bulk
    from tests.factories_contracts import make_challenge

    await make_challenge(status="published", title="First")
    assert await rebuild_ocds_bulk() == 1
    assert await rebuild_ocds_bulk() == 0  # fresh: not rebuilt every round
    response = await client.get("/api/v1/opendata/ocds/bulk/ocds-releases.json.gz")
    assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
    assert hashlib.sha256(response.content).hexdigest() == response.headers["x-content-sha256"]
    package = json.loads(gzip.decompress(response.content))
    assert ocds_errors(package, "release-package") == []
    assert [r["tender"]["title"] for r in package["releases"]] == ["First"]


async def test_the_open_data_page_says_what_is_published_and_how_it_is_checked(client, settings):
    for lang, word in (("en", "Open data"), ("fr", "Données ouvertes"), ("nl", "Open data")):
        page = await client.get("/open-data", headers={"Accept-Language": lang})
        assert page.status_code == 200 and word in page.text
        assert settings.ocds_ocid_prefix in page.text and "/api/v1/opendata/ocds/bulk/ocds-releases.json.gz" in page.text


async def test_a_paid_phase_is_a_contracting_process_of_its_own_linked_to_the_challenge(client, settings):
    """The two-phase template's feasibility contracts (awards of a paid intermediate stage) form their own
    process, `<ocid>-<stage>`, which the challenge's process links through relatedProcesses."""
    from marketplace.transparency import ocds
    from tests.factories_transparency import make_running_contract

    setting, award, contract, _experiment_id = await make_running_contract()
    [challenge] = await ocds.public_challenges(setting.challenge.id)
    p = await ocds._process(challenge)
    phase = p["stages"][0]["key"]
    last = p["stages"][-1]["key"]
    assert ocds.processes_of({**p, "awards": [{**a, "stage": last} for a in p["awards"]]})[0]["awards"]  # the final award
    p["awards"] = [{**a, "stage": phase} for a in p["awards"]]  # as a paid first stage's award records it
    main, feasibility = ocds.processes_of(p)
    main_ocid = f"{settings.ocds_ocid_prefix}-{setting.challenge.id}"
    assert main.get("ocid") is None and feasibility["ocid"] == f"{main_ocid}-{phase}"
    assert main["awards"] == [] and [a["id"] for a in feasibility["awards"]] == [award.id]
    releases = ocds.releases_of(main) + ocds.releases_of(feasibility)
    package = {"uri": "https://example.org/p", "version": "1.1", "publishedDate": releases[-1]["date"],
               "publisher": {"name": "Test"}, "releases": releases}
    assert ocds_errors(package, "release-package") == []
    assert data_review(package)["errors"]["validation"] == []
    link = ocds.releases_of(main)[0]["relatedProcesses"][0]
    assert link["identifier"] == f"{main_ocid}-{phase}" and link["relationship"] == ["planning"] and link["scheme"] == "ocid"
    back = ocds.releases_of(feasibility)[0]["relatedProcesses"][0]
    assert back["identifier"] == main_ocid
    assert {r["ocid"] for r in ocds.releases_of(feasibility)} == {f"{main_ocid}-{phase}"}
    assert ocds.split_ocid(f"{main_ocid}-{phase}") == (setting.challenge.id, phase)
    assert (await client.get(f"/api/v1/opendata/ocds/records/{main_ocid}-nothing")).status_code == 404


async def test_a_package_reads_its_processes_in_a_fixed_number_of_queries_however_many_there_are(client):
    """The live feed and the worker's bulk package load public processes in chunks, not one by one."""
    from marketplace.transparency import ocds
    from tests.factories import make_org
    from tests.factories_proposals import make_open_challenge
    from tests.querycount import counted

    buyer = await make_org("public_body")
    await make_open_challenge(buyer)
    async with counted() as one:
        assert len((await ocds.release_package(None))["releases"]) == 1
    for _ in range(5):
        await make_open_challenge(buyer)
    async with counted() as six:
        assert len((await ocds.release_package(None))["releases"]) == 6
    assert len(six) == len(one) <= 12, [q[:60] for q in six]
