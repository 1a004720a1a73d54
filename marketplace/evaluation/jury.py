"""A challenge's jury: named experts (possibly from other public bodies or countries) who score the stages
whose template says `panel = "jury"`, live during the pitches, one criterion at a time on a phone. A juror
is an evaluator assignment with `panel = "jury"`; the board ranks such a stage by the jury's totals, and
the buyer decides (every team with written feedback) and awards as for any stage."""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec

from marketplace.accounts.tables import Membership, User
from marketplace.core.auth import Principal
from marketplace.core.clock import rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound
from marketplace.core.i18n import gettext as _
from marketplace.evaluation.tables import Declaration, EvaluatorAssignment
from marketplace.procedures.engine import ProcedureTemplate
from marketplace.proposals.services import template_of
from marketplace.transparency.audit import record

JURY, EVALUATORS = "jury", "evaluators"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class JurorIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    affiliation: str = ""
    country: str = ""


class JurorOut(msgspec.Struct):
    user_id: str  # empty while invited
    name: str  # the e-mail address while invited
    affiliation: str
    country: str
    declared: bool
    has_conflict: bool
    assigned_at: str | None
    invited: bool = False  # invited by e-mail: sits on the jury once they accept and open their evaluations


def jury_stages(template: ProcedureTemplate) -> list[str]:
    return [s.key for s in template.stages if s.panel == JURY]


async def panel_of(challenge_id: Any, user_id: Any) -> str | None:
    """The panel an assigned person sits on for this challenge ("evaluators" or "jury"); None: not assigned."""
    row = await EvaluatorAssignment.select(EvaluatorAssignment.panel).where(
        (EvaluatorAssignment.challenge == challenge_id) & (EvaluatorAssignment.evaluator == uuid.UUID(str(user_id)))).first()
    return row["panel"] if row else None


async def check_panel(challenge: dict[str, Any], stage_key: str, user_id: Any) -> None:
    """A stage is scored by its panel only: the jury at a `panel = "jury"` stage, the evaluators elsewhere (409)."""
    wanted = template_of(challenge).stage(stage_key).panel
    if await panel_of(challenge["id"], user_id) != wanted:
        if wanted == JURY:
            raise Conflict(_("Only the jury scores this stage."), [FieldError("stage", "is scored by the jury")])
        raise Conflict(_("The jury scores only the pitches: this stage is scored by the evaluators."),
                       [FieldError("stage", "is scored by the evaluators")])


async def appoint(principal: Principal, challenge_id: Any, data: JurorIn) -> JurorOut:
    """A civil servant of the buyer names a juror by e-mail address: a person with an evaluator account of any
    public body (an expert from another body or country is first invited to theirs, or to the buyer's, as
    an evaluator). They are told in-app and by e-mail, and must declare conflicts of interest before scoring."""
    from marketplace.evaluation.services import buyer_challenge, tell_evaluator
    from marketplace.proposals.team import countries

    challenge = await buyer_challenge(principal, challenge_id, deciding=True)
    if not jury_stages(template_of(challenge)):
        raise Conflict(_("This procedure has no jury: its stages are scored by evaluators."),
                       [FieldError("procedure", "has no stage with `panel = \"jury\"`")])
    errors = []
    email = data.email.strip().lower()
    if not EMAIL_RE.match(email):
        errors.append(FieldError("email", "is not an e-mail address"))
    user = await User.select(User.id).where(User.email == email).first() if email else None
    is_evaluator = user is not None and await Membership.exists().where(
        (Membership.user == user["id"]) & (Membership.role == Membership.Role.evaluator) & (Membership.organisation.kind == "public_body"))
    country = data.country.strip().upper()
    if country and country not in countries():
        errors.append(FieldError("country", "is not a country code (ISO 3166-1, two letters, e.g. BE)"))
    if len(data.affiliation) > 200:
        errors.append(FieldError("affiliation", "is longer than 200 characters"))
    if errors:
        raise Invalid(errors)
    if not is_evaluator:
        await _invite(principal, challenge, email, data.affiliation.strip(), country)
        return next(j for j in await jurors(challenge) if j.invited and j.name == email)
    uid = user["id"]
    try:
        async with transaction():
            await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=challenge["id"], evaluator=uid, panel=JURY,
                                                                 affiliation=data.affiliation.strip(), country=country,
                                                                 assigned_by=uuid.UUID(principal.user_id)))
            await record(principal, "juror.appointed", "challenge", challenge["id"], {"juror": str(uid)},
                         after={"panel": JURY, "affiliation": data.affiliation.strip(), "country": country})
            await tell_evaluator(uid, challenge)
    except Exception as exc:
        if is_integrity_error(exc):
            raise Conflict(_("This person already evaluates this challenge."), [FieldError("email", "is already assigned")]) from None
        raise
    return next(j for j in await jurors(challenge) if j.user_id == str(uid))


async def _invite(principal: Principal, challenge: dict[str, Any], email: str, affiliation: str, country: str) -> None:
    """No evaluator account has this address: invite them by e-mail to the buyer's body as an evaluator (the
    usual account invitation, within the body's daily limit), with a jury seat that waits for them."""
    from datetime import timedelta

    from marketplace.accounts.services import INVITATION_DAYS, _within_daily_invitations, invitation_proof
    from marketplace.accounts.tables import Invitation, Organisation
    from marketplace.core.clock import now
    from marketplace.core.security import hash_token, new_token
    from marketplace.evaluation.tables import JuryInvitation
    from marketplace.mail.services import enqueue_mail

    if await JuryInvitation.exists().where((JuryInvitation.challenge == challenge["id"]) & (JuryInvitation.email == email)
                                           & JuryInvitation.claimed_at.is_null()):
        raise Conflict(_("This person is already invited to the jury."), [FieldError("email", "is already invited")])
    buyer = await Organisation.select(Organisation.id, Organisation.name).where(Organisation.id == challenge["buyer"]).first()
    token, moment = new_token(), now()
    expires = moment + timedelta(days=INVITATION_DAYS)
    invitation = Invitation(organisation=buyer["id"], email=email, role=Membership.Role.evaluator, token_hash=hash_token(token),
                            invited_by=uuid.UUID(principal.user_id), created_at=moment, expires_at=expires)
    await invitation.save()  # written before counting, as every invitation
    try:
        await _within_daily_invitations(buyer["id"], invitation.id, moment)
        async with transaction():
            await JuryInvitation.insert(JuryInvitation(challenge=challenge["id"], invitation=invitation.id, email=email,
                                                       affiliation=affiliation, country=country, invited_by=uuid.UUID(principal.user_id)))
            await record(principal, "juror.invited", "challenge", challenge["id"], {"invitation": str(invitation.id)},
                         after={"panel": JURY, "affiliation": affiliation, "country": country})
            await enqueue_mail(email, "invitation", locale=principal.locale, organisation=buyer["name"], role="evaluator",
                               inviter=principal.name, token=token, proof=invitation_proof(token), expires_at=expires)
    except BaseException:
        await Invitation.delete().where(Invitation.id == invitation.id)
        raise


async def claim_seats(user_id: Any) -> int:
    """An invited juror who accepted the account invitation takes their jury seats (on their evaluations page and
    before declaring): each becomes an assignment to the challenge's jury, and they are told."""
    from marketplace.accounts.tables import Invitation
    from marketplace.core.clock import now
    from marketplace.evaluation.services import tell_evaluator
    from marketplace.evaluation.tables import JuryInvitation

    uid = uuid.UUID(str(user_id))
    accepted = [r["id"] for r in await Invitation.select(Invitation.id).where(Invitation.accepted_by == uid)]
    if not accepted:
        return 0
    seats = await JuryInvitation.select().where(JuryInvitation.invitation.is_in(accepted) & JuryInvitation.claimed_at.is_null())
    if not seats or not await Membership.exists().where((Membership.user == uid) & (Membership.role == Membership.Role.evaluator)):
        return 0  # the role counts once the address is confirmed
    taken = 0
    for seat in seats:
        async with transaction():
            claimed = await JuryInvitation.update({JuryInvitation.claimed_at: now()}).where(
                (JuryInvitation.id == seat["id"]) & JuryInvitation.claimed_at.is_null()).returning(JuryInvitation.id)
            if not claimed or await EvaluatorAssignment.exists().where(
                    (EvaluatorAssignment.challenge == seat["challenge"]) & (EvaluatorAssignment.evaluator == uid)):
                continue
            await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=seat["challenge"], evaluator=uid, panel=JURY,
                                                                 affiliation=seat["affiliation"], country=seat["country"],
                                                                 assigned_by=seat["invited_by"]))
            await record(uid, "juror.joined", "challenge", seat["challenge"], {"juror": str(uid)}, after={"panel": JURY})
            from marketplace.proposals.services import get_challenge

            await tell_evaluator(uid, await get_challenge(seat["challenge"]))
            taken += 1
    return taken


async def jurors(challenge: dict[str, Any]) -> list[JurorOut]:
    rows = await EvaluatorAssignment.select(EvaluatorAssignment.all_columns(), EvaluatorAssignment.evaluator.name.as_alias("name")).where(
        (EvaluatorAssignment.challenge == challenge["id"]) & (EvaluatorAssignment.panel == JURY)).order_by(EvaluatorAssignment.assigned_at)
    declarations = {str(d["evaluator"]): d for d in await Declaration.select().where(Declaration.challenge == challenge["id"])}
    from marketplace.evaluation.tables import JuryInvitation

    invited = await JuryInvitation.select().where((JuryInvitation.challenge == challenge["id"]) & JuryInvitation.claimed_at.is_null()
                                                  ).order_by(JuryInvitation.created_at)
    return [JurorOut(user_id=str(r["evaluator"]), name=r["name"], affiliation=r["affiliation"], country=r["country"],
                     declared=str(r["evaluator"]) in declarations,
                     has_conflict=bool(declarations.get(str(r["evaluator"]), {}).get("has_conflict")),
                     assigned_at=rfc3339(r["assigned_at"])) for r in rows] + [
        JurorOut(user_id="", name=r["email"], affiliation=r["affiliation"], country=r["country"], declared=False, has_conflict=False,
                 assigned_at=None, invited=True) for r in invited]


async def readable_jury(principal: Principal, challenge_id: Any) -> list[JurorOut]:
    """The jury, for the buyer team and the jurors themselves."""
    from marketplace.proposals import access
    from marketplace.proposals.services import get_challenge

    challenge = await get_challenge(challenge_id)
    if not principal.has_role(*access.BUYER_TEAM_ROLES, organisation_id=str(challenge["buyer"])) \
            and await panel_of(challenge["id"], principal.user_id) != JURY:
        raise NotFound("challenge")
    return await jurors(challenge)
