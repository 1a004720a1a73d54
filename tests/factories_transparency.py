"""Transparency test helpers: an awarded challenge whose test contract runs an experiment, and the
offline OCDS 1.1.5 schemas with a local registry (no network)."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from marketplace.awards.tables import Award, Contract
from marketplace.core.clock import now
from marketplace.experiments.services import create_experiment
from tests.factories_contracts import make_award_setting

# The OCDS 1.1.5 schemas and codelists, offline: the project's shared folder sits beside the checkout.
OCDS_DIR = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "ocds-1.1.5",
                             Path("/work/shared/ocds-1.1.5")) if p.exists()), Path("/work/shared/ocds-1.1.5"))


@cache
def _registry() -> tuple[Registry, dict[str, dict]]:
    schemas = {}
    registry = Registry()
    for name in ("release-schema.json", "release-package-schema.json", "record-package-schema.json",
                 "versioned-release-validation-schema.json"):
        schema = json.loads((OCDS_DIR / name).read_text())
        schemas[name] = schema
        registry = registry.with_resource(schema["id"], Resource.from_contents(schema, default_specification=DRAFT4))
    return registry, schemas


def ocds_errors(document: dict, package: str) -> list[str]:
    """Every schema error of `document` against `release-package` or `record-package` (offline)."""
    registry, schemas = _registry()
    validator = jsonschema.Draft4Validator(schemas[f"{package}-schema.json"], registry=registry,
                                           format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


@cache
def _standard_zip() -> bytes:
    """The standard's schema folder as the zip libcoveocds' profile builder reads (no download)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("standard-1__1__5/", "")
        for path in sorted(OCDS_DIR.rglob("*")):
            if path.is_file():
                z.write(path, f"standard-1__1__5/schema/{path.relative_to(OCDS_DIR)}")
    return buffer.getvalue()


def data_review(package: dict) -> dict:
    """The Open Contracting Partnership's data review (libcoveocds, as the OCDS Data Review Tool runs it),
    offline: its profile builder reads the standard from a zip of ../shared/ocds-1.1.5 (its
    `standard_zip` setting), and any HTTP request it might still make fails at once.
    Returns the errors (schema, conformance, closed codelists) and the warnings (additional checks,
    additional fields, open codelist values)."""
    from unittest import mock

    import requests
    from libcoveocds.api import ocds_json_output
    from libcoveocds.config import LibCoveOCDSConfig

    config = LibCoveOCDSConfig()
    config.config["context"] = "api"
    config.config["standard_zip"] = _standard_zip()

    def offline(_session, method, url, *args, **kwargs):
        """A transport that serves the standard's schema URLs from ../shared/ocds-1.1.5 and refuses the rest."""
        name = url.rsplit("/", 1)[-1]
        if method.upper() == "GET" and "/schema/1__1__5/" in url and (OCDS_DIR / name).is_file():
            response = requests.Response()
            response.status_code, response.url = 200, url
            response._content = (OCDS_DIR / name).read_bytes()
            response.headers["Content-Type"] = "application/json"
            return response
        raise requests.ConnectionError(f"the data review runs offline: {url}")

    with mock.patch("requests.Session.request", offline):
        out = ocds_json_output("", json_data=json.loads(json.dumps(package)), lib_cove_ocds_config=config)
    return {
        "errors": {"validation": out.get("validation_errors") or [], "conformance": out.get("conformance_errors") or {},
                   "closed_codelists": out.get("additional_closed_codelist_values") or {}},
        "warnings": {"checks": out.get("additional_checks") or {}, "fields": out.get("additional_fields") or [],
                     "open_codelists": out.get("additional_open_codelist_values") or {}},
    }


async def make_running_contract(**challenge_fields):
    """An awarded challenge (one winner, one rejected bidder) with its signed contract and a running
    experiment of one milestone. Returns (setting, award, contract, experiment_id)."""
    moment = now()
    setting = await make_award_setting(status="awarded", closed_at=moment - timedelta(days=5), **challenge_fields)
    award = Award(challenge=setting.challenge.id, proposal=setting.winner.id, company=setting.winner.company_org.id,
                  buyer=setting.buyer.id, amount_cents=1_500_000, status="contracted", awarded_at=moment - timedelta(days=5),
                  standstill_ends_at=moment - timedelta(days=2), starts_on=(moment - timedelta(days=1)).date())
    await award.save()
    contract = Contract(award=award.id, challenge=setting.challenge.id, buyer=setting.buyer.id,
                        company=setting.winner.company_org.id, number="C-2026-0042", status="active",
                        issued_at=moment - timedelta(days=2), activated_at=moment - timedelta(days=1))
    await contract.save()
    experiment_id = await create_experiment(
        buyer_id=setting.buyer.id, company_id=setting.winner.company_org.id, challenge_id=setting.challenge.id,
        contract_id=contract.id, title="Voice triage pilot",
        milestones=[{"title": "Shadow triage", "amount_cents": 1_500_000, "currency": "EUR",
                     "due_date": (moment + timedelta(days=20)).date(), "expected_deliverable": "A report"}])
    return setting, award, contract, experiment_id
