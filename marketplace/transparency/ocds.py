"""OCDS 1.1 open data: every public stage of a contracting process as releases, and records whose
compiled release is merged by the Open Contracting Partnership's own library (ocdsmerge).

A process is one published challenge (ocid = `<OCDS_OCID_PREFIX>-<challenge id>`). Its releases:
- `tender` at publication: planning (the problem and the budget), the tender with its stages as
  milestones, its enquiry period, the challenge brief and the documents the challenge carries (every
  version, with its SHA-256; `biddingDocuments`);
- `tenderAmendment` for every published amendment (tender.amendments with the change note);
- `tenderUpdate` when the challenge closes (number of tenderers, stage decisions);
- `award` for every award (the supplier with its Belgian enterprise number);
- `contract` when the contract is issued and again when both parties signed (dateSigned, the
  contract document with its SHA-256);
- `implementation` for every paid milestone: a transaction per payout (amount, date, payer, payee,
  the Stripe transfer id) and the contract's delivery and payment milestones as they stood then;
- `contractTermination` when the experiment ended.

Only what is public appears: no proposal content, no scores, no names of unsuccessful bidders.
Releases are computed from the rows' timestamps, so a release's content is what was true at its date.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from functools import cache
from typing import Any

import ocdsmerge

from marketplace.accounts.tables import Organisation
from marketplace.awards.tables import Award, Contract
from marketplace.challenges.tables import (
    Challenge,
    ChallengeDocument,
    ChallengeStage,
    ChallengeVersion,
    Question,
)
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.errors import NotFound
from marketplace.documents.tables import Document
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.payments.tables import Payout
from marketplace.procedures import engine
from marketplace.proposals.tables import Decision, Proposal, ProposalStage
from marketplace.settings import get_settings

OCDS_VERSION = "1.1"
FINISHED = ["awarded", "closed", "archived"]
PUBLIC = ["published", *FINISHED]
BELGIAN_REGISTER = "BE-BCE_KBO"  # org-id.guide: the Crossroads Bank for Enterprises

# The merge rules of the OCDS 1.1.5 release schema, as ocdsmerge derives them from it (a test checks
# them against ../shared/ocds-1.1.5/release-schema.json), so that merging never fetches a schema.
MERGE_RULES: dict[tuple[str, ...], str] = {
    ("date",): "omitWhenMerged", ("id",): "omitWhenMerged", ("tag",): "omitWhenMerged",
    **{path: "wholeListMerge" for path in [
        ("awards", "amendment", "changes"), ("awards", "amendments", "changes"),
        ("awards", "items", "additionalClassifications"), ("awards", "suppliers", "additionalIdentifiers"),
        ("buyer", "additionalIdentifiers"), ("contracts", "amendment", "changes"), ("contracts", "amendments", "changes"),
        ("contracts", "implementation", "transactions", "payee", "additionalIdentifiers"),
        ("contracts", "implementation", "transactions", "payer", "additionalIdentifiers"),
        ("contracts", "items", "additionalClassifications"), ("contracts", "relatedProcesses", "relationship"),
        ("parties", "additionalIdentifiers"), ("parties", "roles"), ("relatedProcesses", "relationship"),
        ("tender", "additionalProcurementCategories"), ("tender", "amendment", "changes"),
        ("tender", "amendments", "changes"), ("tender", "items", "additionalClassifications"),
        ("tender", "procuringEntity", "additionalIdentifiers"), ("tender", "submissionMethod"),
        ("tender", "tenderers", "additionalIdentifiers"),
    ]},
}


@cache
def _merger() -> ocdsmerge.Merger:
    return ocdsmerge.Merger(merge_rules=MERGE_RULES)


def ocid(challenge_id: Any) -> str:
    return f"{get_settings().ocds_ocid_prefix}-{challenge_id}"


def challenge_id_of(ocid_value: str) -> uuid.UUID | None:
    return split_ocid(ocid_value)[0]


def split_ocid(ocid_value: str) -> tuple[uuid.UUID | None, str]:
    """(challenge id, phase) of an ocid: `<prefix>-<challenge id>` or `<prefix>-<challenge id>-<paid stage key>`."""
    prefix = get_settings().ocds_ocid_prefix + "-"
    if not ocid_value.startswith(prefix):
        return None, ""
    rest = ocid_value[len(prefix):]
    try:
        return uuid.UUID(rest[:36]), rest[37:] if len(rest) > 37 and rest[36] == "-" else ""
    except ValueError:
        return None, ""


def _value(cents: int, currency: str) -> dict[str, Any]:
    return {"amount": cents / 100, "currency": currency}


@cache
def country_name(code: str) -> str:
    """The English name of an ISO 3166-1 alpha-2 country code (OCDS wants a name, not a code)."""
    from babel import Locale

    return Locale("en").territories.get((code or "").upper(), code)


def org_identifier(org: dict[str, Any]) -> dict[str, Any] | None:
    """The org-id.guide identifier: Belgian enterprise numbers (10 digits) in BE-BCE_KBO."""
    number = re.sub(r"\D", "", org.get("enterprise_number") or "")
    if org.get("country", "BE") == "BE" and len(number) == 10:
        return {"scheme": BELGIAN_REGISTER, "id": number, "legalName": org["name"]}
    return None


def _party(org: dict[str, Any], roles: list[str]) -> dict[str, Any]:
    party: dict[str, Any] = {"id": str(org["id"]), "name": org["name"], "roles": roles}
    identifier = org_identifier(org)
    if identifier:
        party["identifier"] = identifier
    if org.get("country"):
        party["address"] = {"countryName": country_name(org["country"])}
    return party


def _ref(org: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(org["id"]), "name": org["name"]}


def _stage_name(ch: dict[str, Any], key: str) -> str:
    try:
        name = engine.get(ch["procedure_template"], ch["procedure_version"]).stage(key).name
        return name.local("en") if hasattr(name, "local") else str(name)  # the release's language is English
    except (KeyError, LookupError, ValueError):
        return key


# --- loading ----------------------------------------------------------------------------------

CHUNK = 200  # challenges loaded together when a package covers them all

_ORG_COLUMNS = (Organisation.id, Organisation.name, Organisation.enterprise_number, Organisation.country)


async def _process(challenge: dict[str, Any]) -> dict[str, Any]:
    """Everything public about one contracting process, loaded once."""
    return (await _processes([challenge]))[0]


def _by(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row[key], []).append(row)
    return grouped


async def _processes(challenges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Everything public about these contracting processes, in the same dozen queries whatever their number
    (callers pass them in chunks: `CHUNK`)."""
    if not challenges:
        return []
    ids = [c["id"] for c in challenges]
    stages = _by(await ChallengeStage.select().where(ChallengeStage.challenge.is_in(ids)).order_by(ChallengeStage.position), "challenge")
    versions = _by(await ChallengeVersion.select(ChallengeVersion.challenge, ChallengeVersion.version, ChallengeVersion.change_note,
                                                 ChallengeVersion.created_at).where(
        ChallengeVersion.challenge.is_in(ids)).order_by(ChallengeVersion.version), "challenge")
    award_rows = await Award.select().where(Award.challenge.is_in(ids)).order_by(Award.awarded_at)
    contract_rows = await Contract.select().where(Contract.challenge.is_in(ids)).order_by(Contract.created_at)
    doc_ids = [c["document"] for c in contract_rows if c["document"]]
    documents = {d["id"]: d for d in await Document.select(Document.id, Document.sha256, Document.created_at,
                                                            Document.language, Document.version).where(
        Document.id.is_in(doc_ids))} if doc_ids else {}
    org_ids = {*(c["buyer"] for c in challenges), *(a["company"] for a in award_rows)}
    orgs = {o["id"]: o for o in await Organisation.select(*_ORG_COLUMNS).where(Organisation.id.is_in(list(org_ids)))}
    experiment_rows = await Experiment.select(Experiment.id, Experiment.challenge, Experiment.contract_id, Experiment.status,
                                              Experiment.finished_at).where(Experiment.challenge.is_in(ids))
    exp_ids = [e["id"] for e in experiment_rows]
    milestone_rows = await Milestone.select().where(Milestone.experiment.is_in(exp_ids)).order_by(Milestone.position) \
        if exp_ids else []
    payout_rows = await Payout.select().where(Payout.experiment.is_in(exp_ids)) if exp_ids else []
    challenge_of_experiment = {e["id"]: e["challenge"] for e in experiment_rows}
    milestones = _by([{**m, "_challenge": challenge_of_experiment[m["experiment"]]} for m in milestone_rows], "_challenge")
    payouts = _by([{**t, "_challenge": challenge_of_experiment[t["experiment"]]} for t in payout_rows], "_challenge")
    questions: dict[Any, int] = {}
    for q in await Question.select(Question.challenge).where(Question.challenge.is_in(ids)):
        questions[q["challenge"]] = questions.get(q["challenge"], 0) + 1
    finished = [c["id"] for c in challenges if c["status"] in FINISHED]
    counts = await _tender_counts(finished) if finished else {}
    attached = _by(await ChallengeDocument.select().where(ChallengeDocument.challenge.is_in(ids)).order_by(
        ChallengeDocument.uploaded_at).order_by(ChallengeDocument.version), "challenge")
    awards, contracts, experiments = _by(award_rows, "challenge"), _by(contract_rows, "challenge"), _by(experiment_rows, "challenge")
    out = []
    for ch in challenges:
        cid = ch["id"]
        mine = {ch["buyer"], *(a["company"] for a in awards.get(cid, []))}
        out.append({"challenge": ch, "orgs": {k: v for k, v in orgs.items() if k in mine}, "stages": stages.get(cid, []),
                    "versions": versions.get(cid, []), "awards": awards.get(cid, []), "attached": attached.get(cid, []),
                    "contracts": contracts.get(cid, []),
                    "documents": documents, "experiments": experiments.get(cid, []),
                    "milestones": milestones.get(cid, []), "payouts": payouts.get(cid, []),
                    "questions": questions.get(cid, 0), "counts": counts.get(cid) if ch["status"] in FINISHED else None})
    return out


async def _tender_counts(challenge_ids: list[Any]) -> dict[Any, dict[str, Any]]:
    """Per challenge: how many proposals were submitted and how each stage was decided (counts only)."""
    challenge_of = {p["id"]: p["challenge"] for p in await Proposal.select(Proposal.id, Proposal.challenge).where(
        Proposal.challenge.is_in(challenge_ids))}
    counts: dict[Any, dict[str, Any]] = {cid: {"tenderers": 0, "decisions": {}} for cid in challenge_ids}
    if not challenge_of:
        return counts
    tenderers: dict[Any, set[Any]] = {}
    for r in await ProposalStage.select(ProposalStage.proposal).where(
            ProposalStage.proposal.is_in(list(challenge_of)) & ProposalStage.submitted_at.is_not_null()):
        tenderers.setdefault(challenge_of[r["proposal"]], set()).add(r["proposal"])
    for d in await Decision.select(Decision.proposal, Decision.stage, Decision.outcome).where(
            Decision.proposal.is_in(list(challenge_of))):
        decisions = counts[challenge_of[d["proposal"]]]["decisions"]
        decisions.setdefault(d["stage"], {}).setdefault(d["outcome"], 0)
        decisions[d["stage"]][d["outcome"]] += 1
    for cid, proposals in tenderers.items():
        counts[cid]["tenderers"] = len(proposals)
    return counts


# --- sections ---------------------------------------------------------------------------------

def _tender(p: dict[str, Any], status: str, at: datetime) -> dict[str, Any]:
    ch = p["challenge"]
    base = get_settings().base_url
    tpl = f"{ch['procedure_template']} v{ch['procedure_version']}"
    tender: dict[str, Any] = {
        "id": str(ch["id"]), "title": ch["title"], "description": ch["summary"] or ch["problem"], "status": status,
        "value": _value(ch["budget_cap_cents"], ch["currency"]), "procurementMethod": "open",
        "procurementMethodDetails": f"Innovation challenge in stages, procedure template {tpl}",
        "mainProcurementCategory": "services", "submissionMethod": ["electronicSubmission"],
        "hasEnquiries": p["questions"] > 0,
        "items": [{"id": str(i + 1), "description": ch["title"], "classification": {"scheme": "CPV", "id": code}}
                  for i, code in enumerate(json.loads(ch["cpv_codes"] or "[]"))],
        "documents": [{"id": f"brief-{ch['id']}", "documentType": "tenderNotice", "title": f"Challenge brief: {ch['title']}",
                       "url": f"{base}/challenges/{ch['id']}/brief.pdf", "format": "application/pdf", "language": "en",
                       "datePublished": rfc3339(ch["published_at"])},
                      *_attached_documents(p, at)],
        "milestones": [_stage_milestone(p, s, at) for s in p["stages"]],
    }
    if p["stages"]:
        tender["tenderPeriod"] = {"startDate": rfc3339(p["stages"][0]["opens_at"]), "endDate": rfc3339(p["stages"][0]["closes_at"])}
        tender["awardPeriod"] = {"startDate": rfc3339(p["stages"][-1]["closes_at"])}
    if ch.get("qa_closes_at"):
        tender["enquiryPeriod"] = {"startDate": rfc3339(ch["published_at"]), "endDate": rfc3339(ch["qa_closes_at"])}
    amendments = [v for v in p["versions"] if v["version"] > 1 and as_utc(v["created_at"]) <= at]
    if amendments:
        tender["amendments"] = [{"id": f"v{v['version']}", "date": rfc3339(v["created_at"]),
                                 "rationale": v["change_note"] or f"Version {v['version']}"} for v in amendments]
    if p["counts"] is not None and status != "active":
        tender["numberOfTenderers"] = p["counts"]["tenderers"]
    return tender


def _attached_documents(p: dict[str, Any], at: datetime) -> list[dict[str, Any]]:
    """The documents the challenge carries as they stood at `at`: every version public by then (attached to the
    draft: public at publication; by amendment: at once), superseded ones too, each with its SHA-256."""
    ch = p["challenge"]
    published = as_utc(ch["published_at"])
    out = []
    for d in p.get("attached", []):
        public = max(published, as_utc(d["uploaded_at"]))
        if public > at:
            continue
        description = f"Version {d['version']} of this document: {d['filename']}, {d['size_bytes']} bytes, SHA-256 {d['sha256']}."
        entry: dict[str, Any] = {
            "id": f"document-{d['id']}", "documentType": "biddingDocuments", "title": d["title"],
            "url": f"{get_settings().base_url}/api/v1/challenges/{ch['id']}/documents/{d['id']}",
            "format": d["content_type"].split(";")[0].strip(), "datePublished": rfc3339(public)}
        if d["superseded_at"] is not None and as_utc(d["superseded_at"]) <= at:
            description += f" Superseded by version {d['version'] + 1} on {rfc3339(d['superseded_at'])}."
            entry["dateModified"] = rfc3339(d["superseded_at"])
        entry["description"] = description
        out.append(entry)
    return out


def _stage_milestone(p: dict[str, Any], s: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A stage of the procedure: its submissions deadline, met once the stage was decided."""
    ch = p["challenge"]
    decided = s["decided_at"] is not None and as_utc(s["decided_at"]) <= at
    milestone: dict[str, Any] = {
        "id": f"stage-{s['key']}", "title": _stage_name(ch, s["key"]), "type": "assessment", "code": s["key"],
        "description": f"Submissions from {rfc3339(s['opens_at'])} until {rfc3339(s['closes_at'])}; then decided.",
        "dueDate": rfc3339(s["closes_at"]), "status": "met" if decided else "scheduled",
    }
    if decided:
        milestone["dateMet"] = rfc3339(s["decided_at"])
    return milestone


_AWARD_STATUS = {"standstill": "pending", "contracted": "active", "cancelled": "cancelled"}
_CONTRACT_STATUS = {"draft": "pending", "issued": "pending", "active": "active", "cancelled": "cancelled"}


def _award(p: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    supplier = p["orgs"].get(a["company"], {"id": a["company"], "name": ""})
    return {"id": str(a["id"]), "title": p["challenge"]["title"], "status": _AWARD_STATUS.get(a["status"], "pending"),
            "date": rfc3339(a["awarded_at"]), "value": _value(a["amount_cents"], a["currency"]),
            "suppliers": [_ref(supplier)],
            "contractPeriod": {"startDate": f"{a['starts_on'].isoformat()}T00:00:00Z"}}


def _contract(p: dict[str, Any], c: dict[str, Any], at: datetime, *, implementation: bool,
              terminated: bool = False) -> dict[str, Any]:
    """The contract as it stood at `at`; with its implementation (milestones, transactions) if asked."""
    award = next((a for a in p["awards"] if a["id"] == c["award"]), None)
    signed = c["activated_at"] is not None and as_utc(c["activated_at"]) <= at
    status = "terminated" if terminated else "active" if signed else _CONTRACT_STATUS.get(c["status"], "pending")
    if c["status"] == "cancelled":
        status = "cancelled"
    contract: dict[str, Any] = {"id": str(c["id"]), "awardID": str(c["award"]), "title": f"Test contract {c['number']}",
                                "status": status}
    if award:
        contract["value"] = _value(award["amount_cents"], award["currency"])
    if signed:
        contract["dateSigned"] = rfc3339(c["activated_at"])
    doc = p["documents"].get(c["document"]) if c["document"] else None
    if doc:
        contract["documents"] = [{
            "id": f"contract-{doc['id']}", "documentType": "contractSigned" if signed else "contractDraft",
            "title": f"Test contract {c['number']} (version {doc['version']})",
            "description": f"SHA-256 {doc['sha256']}. Available to the parties; the hash lets anyone check a copy.",
            "url": f"{get_settings().base_url}/api/v1/contracts/{c['id']}/document", "format": "application/pdf",
            "language": doc["language"], "datePublished": rfc3339(doc["created_at"])}]
    experiment = next((e for e in p["experiments"] if e["contract_id"] == c["id"]), None)
    if implementation and experiment:
        contract["implementation"] = _implementation(p, experiment, at)
    return contract


def _implementation(p: dict[str, Any], experiment: dict[str, Any], at: datetime) -> dict[str, Any]:
    buyer = p["orgs"][p["challenge"]["buyer"]]
    paid = sorted((t for t in p["payouts"] if t["experiment"] == experiment["id"] and t["paid_at"] is not None
                   and as_utc(t["paid_at"]) <= at), key=lambda t: as_utc(t["paid_at"]))
    transactions = [{
        "id": t["stripe_transfer_id"] or str(t["id"]), "source": get_settings().base_url,
        "date": rfc3339(t["paid_at"]), "value": _value(t["amount_cents"], t["currency"]),
        "payer": _ref(buyer), "payee": _ref(p["orgs"].get(t["company"], {"id": t["company"], "name": ""})),
    } for t in paid]
    milestones: list[dict[str, Any]] = []
    for m in (m for m in p["milestones"] if m["experiment"] == experiment["id"]):
        accepted = m["accepted_at"] is not None and as_utc(m["accepted_at"]) <= at
        delivery: dict[str, Any] = {"id": f"delivery-{m['id']}", "title": m["title"], "type": "delivery",
                                    "dueDate": f"{m['due_date'].isoformat()}T00:00:00Z",
                                    "status": "met" if accepted else "scheduled"}
        if accepted:
            delivery["dateMet"] = rfc3339(m["accepted_at"])
        milestones.append(delivery)
        payout = next((t for t in p["payouts"] if t["milestone"] == m["id"]), None)
        if payout is not None and accepted:
            is_paid = payout["paid_at"] is not None and as_utc(payout["paid_at"]) <= at
            payment: dict[str, Any] = {
                "id": f"payment-{m['id']}", "title": f"Payment: {m['title']}", "type": "payment",
                "dueDate": rfc3339(payout["due_by"]),
                "status": "met" if is_paid else "notMet" if as_utc(payout["due_by"]) < at else "scheduled",
            }
            if is_paid:
                payment["dateMet"] = rfc3339(payout["paid_at"])
            milestones.append(payment)
    out: dict[str, Any] = {"milestones": milestones}
    if transactions:
        out["transactions"] = transactions
    return out


# --- releases ---------------------------------------------------------------------------------

def _release(p: dict[str, Any], suffix: str, date: datetime, tags: list[str], **sections: Any) -> dict[str, Any]:
    ch = p["challenge"]
    buyer = p["orgs"][ch["buyer"]]
    parties = [_party(buyer, ["buyer", "procuringEntity", "payer"])]
    for a in p["awards"]:
        if as_utc(a["awarded_at"]) <= as_utc(date) and a["company"] in p["orgs"]:
            parties.append(_party(p["orgs"][a["company"]], ["supplier", "payee"]))
    process_ocid = p.get("ocid") or ocid(ch["id"])
    return {"ocid": process_ocid, "id": f"{process_ocid}-{suffix}", "date": rfc3339(date), "tag": tags,
            "initiationType": "tender", "language": "en", "parties": parties, "buyer": _ref(buyer), **sections}


def _tender_status(ch: dict[str, Any]) -> str:
    return {"published": "active", "awarded": "complete", "closed": "unsuccessful"}.get(
        ch["status"], "complete" if ch["status"] == "archived" and ch.get("closed_at") else "active")


def releases_of(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The process's releases in date order (see the module's docstring)."""
    ch = p["challenge"]
    published = as_utc(ch["published_at"])
    planning = {"rationale": ch["problem"] or ch["summary"],
                "budget": {"description": "The challenge's budget cap, excluding VAT",
                           "amount": _value(ch["budget_cap_cents"], ch["currency"])}}
    first: dict[str, Any] = {"planning": planning, "tender": _tender(p, "active", published)}
    if p.get("related"):
        first["relatedProcesses"] = p["related"]
    out = [_release(p, "tender", published, ["tender"], **first)]
    for v in p["versions"]:
        if v["version"] > 1:
            at = as_utc(v["created_at"])
            out.append(_release(p, f"amendment-{v['version']}", at, ["tenderAmendment"], tender=_tender(p, "active", at)))
    if ch["status"] in FINISHED and ch["closed_at"]:
        closed = as_utc(ch["closed_at"])
        out.append(_release(p, "tender-end", closed, ["tenderUpdate"], tender=_tender(p, _tender_status(ch), closed)))
    for a in p["awards"]:
        out.append(_release(p, f"award-{a['id']}", as_utc(a["awarded_at"]), ["award"], awards=[_award(p, a)]))
    for c in p["contracts"]:
        if c["status"] == "draft":
            continue
        for suffix, moment in (("issued", c["issued_at"]), ("signed", c["activated_at"])):
            if moment is not None:
                at = as_utc(moment)
                out.append(_release(p, f"contract-{c['id']}-{suffix}", at, ["contract"],
                                    contracts=[_contract(p, c, at, implementation=False)]))
        experiment = next((e for e in p["experiments"] if e["contract_id"] == c["id"]), None)
        if experiment is None:
            continue
        for t in sorted((t for t in p["payouts"] if t["experiment"] == experiment["id"] and t["paid_at"]),
                        key=lambda t: as_utc(t["paid_at"])):
            at = as_utc(t["paid_at"])
            out.append(_release(p, f"implementation-{t['id']}", at, ["implementation"],
                                contracts=[_contract(p, c, at, implementation=True)]))
        if experiment["status"] == "finished" and experiment["finished_at"]:
            at = as_utc(experiment["finished_at"])
            out.append(_release(p, f"termination-{c['id']}", at, ["contractTermination"],
                                contracts=[_contract(p, c, at, implementation=True, terminated=True)]))
    out.sort(key=lambda r: (r["date"], r["id"]))
    return out


def compiled_release(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The current state of the whole process, merged from its releases by ocdsmerge."""
    return _merger().create_compiled_release(releases)


# --- packages ---------------------------------------------------------------------------------

def _package(uri: str, published: str | None) -> dict[str, Any]:
    base = get_settings().base_url
    return {"uri": uri, "version": OCDS_VERSION, "publishedDate": published or rfc3339(now()),
            "publisher": {"name": "Innovation marketplace", "uri": base},
            "license": "https://creativecommons.org/publicdomain/zero/1.0/",
            "publicationPolicy": f"{base}/open-data"}


async def public_challenges(challenge_id: Any = None) -> list[dict[str, Any]]:
    query = Challenge.select().where(Challenge.status.is_in(PUBLIC) & Challenge.published_at.is_not_null())
    if challenge_id is not None:
        query = query.where(Challenge.id == challenge_id)
    return await query.order_by(Challenge.published_at)


def _phase_of(award: dict[str, Any], last_stage: str) -> str:
    """The paid intermediate stage an award contracts ("" for the final award, at the last stage)."""
    stage = award.get("stage") or ""
    return "" if stage == last_stage else stage


def processes_of(p: dict[str, Any]) -> list[dict[str, Any]]:
    """The contracting processes of one challenge: the challenge itself and, for each paid intermediate
    stage (e.g. the two-phase template's feasibility phase), a process of its own with those contracts,
    linked from the challenge's process through `relatedProcesses`."""
    last = p["stages"][-1]["key"] if p["stages"] else ""
    phases = sorted({_phase_of(a, last) for a in p["awards"]} - {""}, key=lambda k: next(
        (s["position"] for s in p["stages"] if s["key"] == k), 0))
    if not phases:
        return [p]

    def only(phase: str, extra: dict[str, Any]) -> dict[str, Any]:
        awards = [a for a in p["awards"] if _phase_of(a, last) == phase]
        award_ids = {a["id"] for a in awards}
        contracts = [c for c in p["contracts"] if c["award"] in award_ids]
        contract_ids = {c["id"] for c in contracts}
        experiments = [e for e in p["experiments"] if e["contract_id"] in contract_ids]
        experiment_ids = {e["id"] for e in experiments}
        return {**p, "awards": awards, "contracts": contracts, "experiments": experiments,
                "milestones": [m for m in p["milestones"] if m["experiment"] in experiment_ids],
                "payouts": [t for t in p["payouts"] if t["experiment"] in experiment_ids], **extra}

    base = get_settings().base_url
    main_ocid = ocid(p["challenge"]["id"])
    related = [{"id": phase, "relationship": ["planning"], "title": _stage_name(p["challenge"], phase),
                "scheme": "ocid", "identifier": f"{main_ocid}-{phase}",
                "uri": f"{base}/api/v1/opendata/ocds/records/{main_ocid}-{phase}"} for phase in phases]
    out = [only("", {"related": related})]
    for phase in phases:
        position = next((s["position"] for s in p["stages"] if s["key"] == phase), 0)
        back = [{"id": "main", "relationship": ["parent"], "title": p["challenge"]["title"], "scheme": "ocid",
                 "identifier": main_ocid, "uri": f"{base}/api/v1/opendata/ocds/records/{main_ocid}"}]
        out.append(only(phase, {"ocid": f"{main_ocid}-{phase}", "phase": phase, "related": back, "counts": None,
                                "stages": [s for s in p["stages"] if s["position"] <= position], "versions": []}))
    return out


async def release_package(since: datetime | None) -> dict[str, Any] | None:
    """An OCDS release package of every public process's releases dated at or after `since`;
    None when there is none (OCDS requires at least one release in a package: the API answers 204)."""
    releases = []
    cutoff = rfc3339(since) if since else None
    challenges = await public_challenges()
    for i in range(0, len(challenges), CHUNK):
        for p in await _processes(challenges[i:i + CHUNK]):
            for process in processes_of(p):
                releases += [r for r in releases_of(process) if cutoff is None or r["date"] >= cutoff]
    if not releases:
        return None
    releases.sort(key=lambda r: (r["date"], r["id"]))
    uri = f"{get_settings().base_url}/api/v1/opendata/ocds/releases" + (f"?since={cutoff}" if cutoff else "")
    return {**_package(uri, releases[-1]["date"]), "releases": releases}


async def record_package(ocid_value: str) -> dict[str, Any]:
    """The OCDS record package of one process: every release and the compiled release."""
    challenge_id, _phase = split_ocid(ocid_value)
    rows = await public_challenges(challenge_id) if challenge_id else []
    process = next((x for x in processes_of(await _process(rows[0])) if (x.get("ocid") or ocid(challenge_id)) == ocid_value),
                   None) if rows else None
    if process is None:
        raise NotFound("contracting process")
    releases = releases_of(process)
    uri = f"{get_settings().base_url}/api/v1/opendata/ocds/records/{ocid_value}"
    return {**_package(uri, releases[-1]["date"]),
            "records": [{"ocid": ocid_value, "releases": releases, "compiledRelease": compiled_release(releases)}]}
