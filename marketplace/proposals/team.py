"""A proposal's team, at stages that declare the `team` feature: the named members (name, organisation,
kind, country) of a mixed team. The bidder replaces the list while such a stage is open; the buyer team,
the evaluators and the jury read it wherever they may read the proposal. A stage may ask for a least
number of members (`team_min_members`) and a mixed team (`team_mixed`) before it can be submitted."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from marketplace.core.auth import Principal
from marketplace.core.clock import now
from marketplace.core.db import transaction
from marketplace.core.errors import Conflict, FieldError, Invalid
from marketplace.core.i18n import N_
from marketplace.core.i18n import gettext as _
from marketplace.procedures import engine
from marketplace.procedures.engine import StageSpec
from marketplace.proposals.tables import ProposalMember
from marketplace.transparency.audit import record

KINDS = tuple(k.value for k in ProposalMember.Kind)
KIND_LABELS = {"company": N_("Company or start-up"), "university": N_("University or research centre"),
               "civil_society": N_("Civil society"), "public_body": N_("Public body")}
MIXING_KINDS = ("university", "civil_society", "public_body")  # what makes a team mixed, next to the company
MAX_MEMBERS = 30


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    organisation: str
    kind: str
    country: str = "BE"


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    members: list[MemberIn]


class MemberOut(msgspec.Struct):
    name: str
    organisation: str
    kind: str
    country: str


class TeamOut(msgspec.Struct):
    proposal_id: str
    members: list[MemberOut]
    editable: bool  # the proposal's current stage is open and declares `team`
    min_members: int | None = None  # what the current stage asks before it can be submitted
    mixed: bool = False
    hidden: bool = False  # evaluators in a blind first round see no one's name


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (Babel's territories with two letters, groupings left out)."""
    from babel import Locale

    not_countries = {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}  # CLDR's unknown region, groupings and pseudo-regions
    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha() and code not in not_countries)


def country_label(code: str, locale: str | None = None) -> str:
    """A country's name in the reader's language."""
    from babel import Locale

    from marketplace.core.i18n import current_locale

    return Locale.parse(locale or current_locale.get()).territories.get(code, code)


def member_errors(members: list[MemberIn]) -> list[FieldError]:
    """Each problem names its member and field (`members[1].kind`)."""
    errors: list[FieldError] = []
    if len(members) > MAX_MEMBERS:
        errors.append(FieldError("members", f"name at most {MAX_MEMBERS} members"))
    for i, m in enumerate(members):
        where = f"members[{i}]"
        if not m.name.strip():
            errors.append(FieldError(f"{where}.name", "is required"))
        elif len(m.name) > 200:
            errors.append(FieldError(f"{where}.name", "is longer than 200 characters"))
        if not m.organisation.strip():
            errors.append(FieldError(f"{where}.organisation", "is required"))
        elif len(m.organisation) > 200:
            errors.append(FieldError(f"{where}.organisation", "is longer than 200 characters"))
        if m.kind not in KINDS:
            errors.append(FieldError(f"{where}.kind", f"must be one of {', '.join(KINDS)}"))
        if m.country.strip().upper() not in countries():
            errors.append(FieldError(f"{where}.country", "is not a country code (ISO 3166-1, two letters, e.g. BE)"))
    return errors


def composition_errors(spec: StageSpec, members: list[dict[str, Any]] | list[MemberOut]) -> list[FieldError]:
    """What the stage asks of the team before it can be submitted (`team_min_members`, `team_mixed`)."""
    kinds = [m["kind"] if isinstance(m, dict) else m.kind for m in members]
    errors = []
    if spec.team_min_members and len(kinds) < spec.team_min_members:
        errors.append(FieldError("team", "name at least %(n)s members of your team", {"n": spec.team_min_members}))
    if spec.team_mixed and not any(k in MIXING_KINDS for k in kinds):
        errors.append(FieldError("team", "a mixed team needs a member from a university, civil society or a public body"))
    return errors


async def members_of(proposal_id: Any) -> list[MemberOut]:
    rows = await ProposalMember.select().where(ProposalMember.proposal == proposal_id).order_by(ProposalMember.position)
    return [MemberOut(name=r["name"], organisation=r["organisation"], kind=r["kind"], country=r["country"]) for r in rows]


async def submission_errors(proposal_id: Any, spec: StageSpec) -> list[FieldError]:
    """For `submit_stage`: the team's composition against what the stage asks (nothing without `team`)."""
    if "team" not in spec.features:
        return []
    return composition_errors(spec, await members_of(proposal_id))


def template_of_challenge(challenge: dict[str, Any]) -> engine.ProcedureTemplate:
    return engine.get(challenge["procedure_template"], challenge["procedure_version"])


async def _editable(proposal: dict[str, Any], challenge: dict[str, Any]) -> tuple[bool, StageSpec]:
    from marketplace.proposals import lifecycle
    from marketplace.proposals.services import ACTIVE, template_of

    template = template_of(challenge)
    spec = template.stage(proposal["current_stage"])
    open_key = engine.open_stage_key(await lifecycle.stages_of(challenge["id"]), now())
    return (proposal["status"] in ACTIVE and open_key == spec.key and engine.allowed(template, spec.key, "edit_team")), spec


async def read_team(principal: Principal, proposal_id: Any) -> TeamOut:
    """The team, for whoever may read the proposal (its team; the buyer team, evaluators and jury once a stage is unsealed)."""
    from marketplace.proposals.services import proposal_view

    proposal, challenge, viewer, keys = await proposal_view(principal, proposal_id)
    return await team_of(proposal, challenge, viewer, keys)


async def team_of(proposal: dict[str, Any], challenge: dict[str, Any], viewer: Any, keys: list[str]) -> TeamOut:
    """The team as this viewer may see it (the caller loaded the proposal through the sealing rules)."""
    from marketplace.proposals import access

    editable, spec = await _editable(proposal, challenge)
    template = template_of_challenge(challenge)
    if viewer.kind == access.EVALUATOR and viewer.blind and keys == [template.stage_keys[0]]:
        return TeamOut(proposal_id=str(proposal["id"]), members=[], editable=False, hidden=True)
    return TeamOut(proposal_id=str(proposal["id"]), members=await members_of(proposal["id"]),
                   editable=editable and viewer.kind == access.TEAM, min_members=spec.team_min_members, mixed=spec.team_mixed)


async def replace_team(principal: Principal, proposal_id: Any, data: TeamIn) -> TeamOut:
    """The bidder names the team's members while the proposal's current stage is open and declares `team`
    (409 naming the stage and the feature otherwise). The list replaces the previous one."""
    from marketplace.proposals import lifecycle
    from marketplace.proposals.services import ACTIVE, _contractors_only, _load_for_team, template_of

    proposal, challenge = await _load_for_team(principal, proposal_id)
    await lifecycle.sync_challenge(challenge["id"])
    if proposal["status"] not in ACTIVE:
        raise Conflict(_("This proposal is %(status)s: it can no longer change.", status=proposal["status"]))
    template = template_of(challenge)
    open_key = engine.open_stage_key(await lifecycle.stages_of(challenge["id"]), now())
    engine.require(template, open_key, "edit_team")
    if open_key != proposal["current_stage"]:
        raise Conflict(_("This proposal is at the stage '%(stage)s', which is not open now.",
                         stage=template.stage(proposal["current_stage"]).name),
                       [FieldError("stage", "is not the proposal's current stage")])
    await _contractors_only(template, challenge, proposal, open_key)
    errors = member_errors(data.members)
    if errors:
        raise Invalid(errors)
    before = await members_of(proposal["id"])
    moment = now()
    async with transaction():
        await ProposalMember.delete().where(ProposalMember.proposal == proposal["id"])
        if data.members:
            await ProposalMember.insert(*[ProposalMember(
                proposal=proposal["id"], position=i, name=m.name.strip(), organisation=m.organisation.strip(), kind=m.kind,
                country=m.country.strip().upper(), updated_at=moment) for i, m in enumerate(data.members)])
        await record(principal, "proposal.team_changed", "proposal", proposal["id"], {"stage": open_key},
                     before={"members": len(before)}, after={"members": len(data.members),
                                                            "kinds": sorted({m.kind for m in data.members})})
    return await read_team(principal, proposal["id"])

