"""Public outcomes and OCDS 1.1 open data, built only from what is public: the published challenge,
its stages' dates, aggregate counts (questions, proposals, decisions), awards, contracts, experiment
results and payments. Sealed proposal content and the names of unsuccessful bidders never appear."""

from __future__ import annotations

import json
from datetime import datetime
from statistics import median
from typing import Any

from marketplace.accounts.tables import Organisation
from marketplace.awards.tables import Award, Contract
from marketplace.challenges.tables import Challenge, ChallengeStage, Question
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.errors import NotFound
from marketplace.experiments.services import experiment_results
from marketplace.experiments.tables import Experiment
from marketplace.payments.metrics import payment_metrics
from marketplace.payments.tables import Payout
from marketplace.proposals.tables import Decision, Proposal, ProposalStage
from marketplace.settings import get_settings

FINISHED = ["awarded", "closed", "archived"]
PUBLIC = ["published", *FINISHED]
OCDS_VERSION = "1.1"


def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((as_utc(end) - as_utc(start)).total_seconds() / 86400, 1)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 1) if present else None


async def _counts(challenge_id: Any) -> dict[str, Any]:
    """Aggregate counts only: how many asked, answered, proposed, advanced and were rejected."""
    questions = await Question.select(Question.asked_at, Question.answered_at).where(Question.challenge == challenge_id)
    proposals = await Proposal.select(Proposal.id).where(Proposal.challenge == challenge_id)
    ids = [p["id"] for p in proposals]
    submitted = 0
    if ids:
        rows = await ProposalStage.select(ProposalStage.proposal).where(
            ProposalStage.proposal.is_in(ids) & ProposalStage.submitted_at.is_not_null())
        submitted = len({r["proposal"] for r in rows})
    decisions = await Decision.select(Decision.stage, Decision.outcome).where(Decision.proposal.is_in(ids)) if ids else []
    by_stage: dict[str, dict[str, int]] = {}
    for d in decisions:
        stage = by_stage.setdefault(d["stage"], {"advance": 0, "reject": 0})
        stage[d["outcome"]] = stage.get(d["outcome"], 0) + 1
    return {
        "questions": len(questions), "questions_answered": sum(1 for q in questions if q["answered_at"] is not None),
        "proposals": submitted, "decisions": by_stage,
        "days_to_answer": _median([_days(q["asked_at"], q["answered_at"]) for q in questions]),
    }


async def _awards(challenge_id: Any) -> list[dict[str, Any]]:
    awards = await Award.select(Award.id, Award.company, Award.company.name.as_alias("company_name"), Award.amount_cents,
                                Award.currency, Award.status, Award.awarded_at, Award.standstill_ends_at).where(
        Award.challenge == challenge_id).order_by(Award.awarded_at)
    contracts = {c["award"]: c for c in await Contract.select().where(Contract.challenge == challenge_id)}
    out = []
    for a in awards:
        c = contracts.get(a["id"])
        out.append({
            "award_id": str(a["id"]), "company_id": str(a["company"]), "company": a["company_name"],
            "amount": {"amount": a["amount_cents"], "currency": a["currency"]}, "status": a["status"],
            "awarded_at": rfc3339(a["awarded_at"]), "standstill_ends_at": rfc3339(a["standstill_ends_at"]),
            "contract": None if c is None else {
                "contract_id": str(c["id"]), "number": c["number"], "status": c["status"],
                "issued_at": rfc3339(c["issued_at"]), "signed_at": rfc3339(c["activated_at"]),
            },
        })
    return out


async def outcomes() -> list[dict[str, Any]]:
    """Every closed or awarded challenge: counts, decisions, awards, experiment results and how many
    days it took to answer questions, decide each stage and pay the accepted milestones."""
    challenges = await Challenge.select(Challenge.id, Challenge.title, Challenge.summary, Challenge.status,
                                        Challenge.buyer, Challenge.buyer.name.as_alias("buyer_name"), Challenge.published_at,
                                        Challenge.closed_at, Challenge.budget_cap_cents, Challenge.currency).where(
        Challenge.status.is_in(FINISHED) & Challenge.published_at.is_not_null()).order_by(Challenge.closed_at, ascending=False)
    out = []
    for ch in challenges:
        stages = await ChallengeStage.select(ChallengeStage.key, ChallengeStage.closes_at, ChallengeStage.decided_at).where(
            ChallengeStage.challenge == ch["id"]).order_by(ChallengeStage.position)
        experiments = await experiment_results(ch["id"])
        payments = await payment_metrics(challenge_experiments=[e["experiment_id"] for e in experiments])
        counts = await _counts(ch["id"])
        out.append({
            "challenge_id": str(ch["id"]), "ocid": ocid(ch["id"]), "title": ch["title"], "summary": ch["summary"],
            "buyer": {"id": str(ch["buyer"]), "name": ch["buyer_name"]}, "status": ch["status"],
            "published_at": rfc3339(ch["published_at"]), "closed_at": rfc3339(ch["closed_at"]),
            "budget_cap": {"amount": ch["budget_cap_cents"], "currency": ch["currency"]},
            "counts": {k: counts[k] for k in ("questions", "questions_answered", "proposals")},
            "decisions": counts["decisions"],
            "awards": await _awards(ch["id"]),
            "experiments": experiments,
            "days_to_answer": counts["days_to_answer"],
            "days_to_decide": _median([_days(s["closes_at"], s["decided_at"]) for s in stages]),
            "days_to_pay": payments["median_days_to_pay"],
            "payments": payments,
        })
    return out


# --- OCDS 1.1 ---------------------------------------------------------------------------------

def ocid(challenge_id: Any) -> str:
    return f"{get_settings().ocds_ocid_prefix}-{challenge_id}"


def _value(cents: int, currency: str) -> dict[str, Any]:
    return {"amount": cents / 100, "currency": currency}


def _party(org: dict[str, Any], roles: list[str]) -> dict[str, Any]:
    party: dict[str, Any] = {"id": str(org["id"]), "name": org["name"], "roles": roles}
    if org.get("enterprise_number"):
        party["identifier"] = {"id": org["enterprise_number"], "legalName": org["name"]}
    if org.get("country"):
        party["address"] = {"countryName": org["country"]}
    return party


async def _process(challenge: dict[str, Any]) -> dict[str, Any]:
    """Everything public about one contracting process, loaded once."""
    orgs = {o["id"]: o for o in await Organisation.select(Organisation.id, Organisation.name, Organisation.enterprise_number,
                                                            Organisation.country).where(Organisation.id == challenge["buyer"])}
    stages = await ChallengeStage.select().where(ChallengeStage.challenge == challenge["id"]).order_by(ChallengeStage.position)
    awards = await Award.select().where(Award.challenge == challenge["id"]).order_by(Award.awarded_at)
    contracts = await Contract.select().where(Contract.challenge == challenge["id"]).order_by(Contract.created_at)
    suppliers = {a["company"] for a in awards}
    if suppliers:
        for o in await Organisation.select(Organisation.id, Organisation.name, Organisation.enterprise_number,
                                           Organisation.country).where(Organisation.id.is_in(list(suppliers))):
            orgs[o["id"]] = o
    experiments = await Experiment.select(Experiment.id, Experiment.contract_id, Experiment.status, Experiment.finished_at).where(
        Experiment.challenge == challenge["id"])
    paid = await Payout.select().where(Payout.experiment.is_in([e["id"] for e in experiments]) & (Payout.status == "paid")) \
        if experiments else []
    counts = await _counts(challenge["id"]) if challenge["status"] in FINISHED else None
    return {"challenge": challenge, "orgs": orgs, "stages": stages, "awards": awards, "contracts": contracts,
            "experiments": experiments, "paid": paid, "counts": counts}


def _tender(p: dict[str, Any], status: str) -> dict[str, Any]:
    ch = p["challenge"]
    tender: dict[str, Any] = {
        "id": str(ch["id"]), "title": ch["title"], "description": ch["summary"] or ch["problem"], "status": status,
        "value": _value(ch["budget_cap_cents"], ch["currency"]), "procurementMethod": "open",
        "procurementMethodDetails": f"Innovation challenge, procedure {ch['procedure_template']} v{ch['procedure_version']}",
        "mainProcurementCategory": "services",
        "items": [{"id": str(i + 1), "description": ch["title"], "classification": {"scheme": "CPV", "id": code}}
                  for i, code in enumerate(json.loads(ch["cpv_codes"] or "[]"))],
    }
    if p["stages"]:
        tender["tenderPeriod"] = {"startDate": rfc3339(p["stages"][0]["opens_at"]), "endDate": rfc3339(p["stages"][0]["closes_at"])}
        tender["awardPeriod"] = {"startDate": rfc3339(p["stages"][-1]["closes_at"])}
    if p["counts"] is not None:
        tender["numberOfTenderers"] = p["counts"]["proposals"]
    return tender


def _tender_status(ch: dict[str, Any]) -> str:
    return {"published": "active", "awarded": "complete", "closed": "unsuccessful"}.get(
        ch["status"], "complete" if ch["status"] == "archived" and ch.get("closed_at") else "active")


def _award(p: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    supplier = p["orgs"].get(a["company"], {"id": a["company"], "name": ""})
    return {"id": str(a["id"]), "title": p["challenge"]["title"], "status": "active" if a["status"] == "contracted" else "pending",
            "date": rfc3339(a["awarded_at"]), "value": _value(a["amount_cents"], a["currency"]),
            "suppliers": [{"id": str(supplier["id"]), "name": supplier["name"]}],
            "contractPeriod": {"startDate": f"{a['starts_on'].isoformat()}T00:00:00Z"}}


def _contract(p: dict[str, Any], c: dict[str, Any], with_transactions: bool) -> dict[str, Any]:
    award = next((a for a in p["awards"] if a["id"] == c["award"]), None)
    experiment = next((e for e in p["experiments"] if e["contract_id"] == c["id"]), None)
    status = {"draft": "pending", "issued": "pending", "active": "active"}[c["status"]]
    if experiment and experiment["status"] == "finished":
        status = "terminated"
    contract: dict[str, Any] = {"id": str(c["id"]), "awardID": str(c["award"]), "title": f"Test contract {c['number']}",
                                "status": status}
    if award:
        contract["value"] = _value(award["amount_cents"], award["currency"])
    if c["activated_at"]:
        contract["dateSigned"] = rfc3339(c["activated_at"])
    if with_transactions and experiment:
        buyer = p["challenge"]["buyer"]
        contract["implementation"] = {"transactions": [{
            "id": str(t["id"]), "date": rfc3339(t["paid_at"]), "value": _value(t["amount_cents"], t["currency"]),
            "payer": {"id": str(buyer), "name": p["orgs"][buyer]["name"]},
            "payee": {"id": str(t["company"]), "name": p["orgs"].get(t["company"], {}).get("name", "")},
        } for t in p["paid"] if t["experiment"] == experiment["id"]]}
    return contract


def _release(p: dict[str, Any], suffix: str, date: Any, tags: list[str], **sections: Any) -> dict[str, Any]:
    ch = p["challenge"]
    buyer = p["orgs"][ch["buyer"]]
    parties = [_party(buyer, ["buyer", "procuringEntity"])]
    if "awards" in sections or "contracts" in sections:
        parties += [_party(p["orgs"][a["company"]], ["supplier"]) for a in p["awards"] if a["company"] in p["orgs"]]
    return {"ocid": ocid(ch["id"]), "id": f"{ocid(ch['id'])}-{suffix}", "date": date if isinstance(date, str) else rfc3339(date),
            "tag": tags,
            "initiationType": "tender", "language": "en", "parties": parties,
            "buyer": {"id": str(buyer["id"]), "name": buyer["name"]}, **sections}


def releases_of(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The process's releases in date order: tender, then its end, each award, each contract, payments."""
    ch = p["challenge"]
    out = [_release(p, "tender", ch["published_at"], ["tender"],
                    tender={**_tender({**p, "counts": None}, "active")})]
    if ch["status"] in FINISHED and ch["closed_at"]:
        out.append(_release(p, "tender-end", ch["closed_at"], ["tenderUpdate"], tender=_tender(p, _tender_status(ch))))
    for a in p["awards"]:
        out.append(_release(p, f"award-{a['id']}", a["awarded_at"], ["award"], awards=[_award(p, a)]))
    for c in p["contracts"]:
        if c["status"] == "draft":
            continue
        out.append(_release(p, f"contract-{c['id']}", c["activated_at"] or c["issued_at"] or c["created_at"], ["contract"],
                            contracts=[_contract(p, c, with_transactions=False)]))
        contract = _contract(p, c, with_transactions=True)
        if contract.get("implementation", {}).get("transactions"):
            last = max(as_utc(t["paid_at"]) for t in p["paid"] if str(t["id"]) in {x["id"] for x in contract["implementation"]["transactions"]})
            out.append(_release(p, f"implementation-{c['id']}-{int(last.timestamp())}", last, ["implementation"], contracts=[contract]))
    out.sort(key=lambda r: r["date"])
    return out


def compiled_release(p: dict[str, Any], releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The current state of the whole process, as one release tagged "compiled"."""
    ch = p["challenge"]
    sections: dict[str, Any] = {"tender": _tender(p, _tender_status(ch))}
    if p["awards"]:
        sections["awards"] = [_award(p, a) for a in p["awards"]]
    contracts = [_contract(p, c, with_transactions=True) for c in p["contracts"] if c["status"] != "draft"]
    if contracts:
        sections["contracts"] = contracts
    return _release(p, "compiled", releases[-1]["date"], ["compiled"], **sections)


def _publisher() -> dict[str, Any]:
    return {"name": "Innovation marketplace", "uri": get_settings().base_url}


def _package(uri: str, published: str | None) -> dict[str, Any]:
    return {"uri": uri, "version": OCDS_VERSION, "publishedDate": published or rfc3339(now()), "publisher": _publisher(),
            "license": "https://creativecommons.org/publicdomain/zero/1.0/",
            "publicationPolicy": f"{get_settings().base_url}/outcomes"}


async def _public_challenges(challenge_id: Any = None) -> list[dict[str, Any]]:
    query = Challenge.select().where(Challenge.status.is_in(PUBLIC) & Challenge.published_at.is_not_null())
    if challenge_id is not None:
        query = query.where(Challenge.id == challenge_id)
    return await query.order_by(Challenge.published_at)


async def release_package(since: datetime | None) -> dict[str, Any]:
    """An OCDS release package of every public process's releases dated at or after `since`."""
    releases = []
    for ch in await _public_challenges():
        releases += [r for r in releases_of(await _process(ch)) if since is None or r["date"] >= rfc3339(since)]
    releases.sort(key=lambda r: (r["date"], r["id"]))
    uri = f"{get_settings().base_url}/api/v1/opendata/ocds/releases" + (f"?since={rfc3339(since)}" if since else "")
    return {**_package(uri, releases[-1]["date"] if releases else None), "releases": releases}


async def record_package(ocid_value: str) -> dict[str, Any]:
    """The OCDS record package of one process: every release and the compiled release."""
    import uuid

    prefix = get_settings().ocds_ocid_prefix + "-"
    try:
        challenge_id = uuid.UUID(ocid_value[len(prefix):]) if ocid_value.startswith(prefix) else None
    except ValueError:
        challenge_id = None
    rows = await _public_challenges(challenge_id) if challenge_id else []
    if not rows:
        raise NotFound("contracting process")
    p = await _process(rows[0])
    releases = releases_of(p)
    uri = f"{get_settings().base_url}/api/v1/opendata/ocds/records/{ocid_value}"
    return {**_package(uri, releases[-1]["date"]),
            "records": [{"ocid": ocid_value, "releases": releases, "compiledRelease": compiled_release(p, releases)}]}
