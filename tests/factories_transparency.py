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

OCDS_DIR = Path("/work/shared/ocds-1.1.5")
if not OCDS_DIR.exists():  # a copy next to the tests, for machines without the shared folder
    OCDS_DIR = Path(__file__).parent / "data" / "ocds-1.1.5"


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
