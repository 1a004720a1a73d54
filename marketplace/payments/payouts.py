"""Payouts: one per accepted milestone, created in the acceptance's transaction, paid by the worker
through a Stripe Transfer exactly once.

Exactly once rests on three things: the unique milestone on `Payout` (a second acceptance cannot make
a second row), the worker's claim (a conditional update, so two workers never take the same payout),
and the idempotency key derived from the milestone (a retry after a crash or a timeout replays the
first transfer instead of making another). The key moves to a new generation only after Stripe's
definite refusal (short balance, onboarding unfinished), since Stripe replays a refusal for its key.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import stripe

from marketplace.core.clock import now, rfc3339
from marketplace.core.db import transaction
from marketplace.core.money import money
from marketplace.core.retries import Backoff, RetryQueue
from marketplace.payments import clock, gateway
from marketplace.payments.connect import from_stripe
from marketplace.payments.schemas import PayoutOut
from marketplace.payments.tables import PaymentAccount, Payout
from marketplace.settings import get_settings
from marketplace.transparency import audit

if TYPE_CHECKING:
    from marketplace.payments.webhooks import Apply

log = logging.getLogger("marketplace.payments")
CLAIM = timedelta(minutes=5)
ONBOARDING_RETRY = timedelta(hours=6)  # the account.updated webhook wakes the payout sooner

ONBOARDING = "Waiting for the company to finish setting up payouts."
BALANCE = "Waiting for funds in the platform's payment balance; retried automatically."
PROVIDER = "The payment provider could not be reached; retried automatically."
REVERSED = "The transfer was reversed by the payment provider."


# The payout's state machine: it only ever moves forward, whatever order Stripe's events arrive in.
OPEN = [Payout.Status.pending, Payout.Status.waiting]  # may still wait, be paid or fail
REVERSIBLE = [*OPEN, Payout.Status.paid]  # a transfer exists or is being made: Stripe may reverse it
TRANSFER_ID = re.compile(r"tr_[A-Za-z0-9]{1,60}")

# Due: pending or waiting, its next attempt reached, not claimed. Retried for ever (a payout is never given up
# on for a transient cause); only Stripe's definite refusal fails it (`_wait(..., failed=True)`).
PAYOUTS = RetryQueue(
    table=Payout, status=Payout.status, ready=(Payout.Status.pending, Payout.Status.waiting), retry=Payout.Status.waiting,
    failed=Payout.Status.failed, backoff=Backoff(first=timedelta(minutes=1), cap=timedelta(hours=6)), claim_for=CLAIM,
    order_by=Payout.accepted_at,
)


def backoff(attempts: int) -> timedelta:
    return PAYOUTS.backoff.after(attempts)


async def create_payout(milestone: dict[str, Any], experiment: dict[str, Any], accepted_at: datetime) -> dict[str, Any]:
    """Called inside the acceptance's transaction: the payout exists exactly when the milestone is accepted."""
    group = f"contract-{experiment['contract_id'] or experiment['id']}"
    inserted = await Payout.insert(Payout(
        milestone=milestone["id"], experiment=experiment["id"], contract_id=experiment["contract_id"],
        company=experiment["company"], buyer=experiment["buyer"], amount_cents=milestone["amount_cents"],
        currency=milestone["currency"], idempotency_key=f"payout-milestone-{milestone['id']}", transfer_group=group,
        accepted_at=accepted_at, due_by=clock.due_by(accepted_at), next_attempt_at=accepted_at,
    )).returning(*Payout.all_columns())
    return inserted[0]


async def _claim(payout_id: object) -> dict[str, Any] | None:
    return await PAYOUTS.claim(payout_id)


async def _wait(payout: dict[str, Any], reason: str, retry_in: timedelta, error: str = "", next_key: bool = False,
                failed: bool = False) -> None:
    async with transaction():
        moved = await Payout.update({
            Payout.status: Payout.Status.failed if failed else Payout.Status.waiting,
            Payout.status_reason: reason,
            Payout.last_error: error[:2000],
            Payout.key_generation: payout["key_generation"] + (1 if next_key else 0),
            Payout.next_attempt_at: now() + retry_in,
            Payout.claimed_until: None,
        }).where((Payout.id == payout["id"]) & Payout.status.is_in(OPEN)).returning(Payout.id)
        if failed and moved:
            await audit.record(None, "payout.failed", "payout", payout["id"], {"reason": reason})


async def _record_transfer(payout_id: object, transfer_id: str) -> None:
    """The transfer exists: the payout is paid (the webhook may have said so already)."""
    async with transaction():
        await _mark_paid(payout_id, transfer_id)


async def _mark_paid(payout_id: object, transfer_id: str) -> bool:
    """Paid, once, and only from an open state: only the first of the worker and the webhook records it and
    tells the company; a payout already reversed or failed stays so."""
    async with transaction():
        done = await Payout.update({
            Payout.status: Payout.Status.paid, Payout.status_reason: "", Payout.last_error: "",
            Payout.stripe_transfer_id: transfer_id, Payout.paid_at: now(), Payout.claimed_until: None,
        }).where((Payout.id == payout_id) & Payout.status.is_in(OPEN)).returning(*Payout.all_columns())
        if done:
            row = done[0]
            await audit.record(None, "payout.paid", "payout", row["id"], {
                "transfer": transfer_id, "amount_cents": row["amount_cents"], "currency": row["currency"],
                "paid_at": rfc3339(row["paid_at"]), "due_by": rfc3339(row["due_by"])})
            await _tell_company_paid(row)
    return bool(done)


async def _tell_company_paid(payout: dict[str, Any]) -> None:
    from marketplace.experiments.notices import members, tell
    from marketplace.experiments.tables import Milestone

    milestone = await Milestone.select(Milestone.title).where(Milestone.id == payout["milestone"]).first()
    await tell(await members(payout["company"], "company_member"), "payout_paid", "Paid: %(milestone)s",
               f"/experiments/{payout['experiment']}#milestone-{payout['milestone']}",
               milestone=milestone["title"] if milestone else "", amount_cents=payout["amount_cents"],
               currency=payout["currency"], transfer=payout["stripe_transfer_id"] or "")


async def release_milestone_payout(payout: dict[str, Any]) -> str:
    """Try to pay one claimed payout; returns its new status. No database transaction is held while Stripe works."""
    account = await PaymentAccount.select().where(PaymentAccount.organisation == payout["company"]).first()
    if account is None or not account["payouts_enabled"]:
        await _wait(payout, ONBOARDING, ONBOARDING_RETRY)
        return "waiting"
    try:
        transfer = await gateway.client().v1.transfers.create_async(
            {
                "amount": payout["amount_cents"], "currency": payout["currency"].lower(),
                "destination": account["stripe_account_id"], "transfer_group": payout["transfer_group"],
                "description": f"Milestone payout {payout['milestone']}",
                "metadata": {"payout_id": str(payout["id"]), "milestone_id": str(payout["milestone"])},
            },
            {"idempotency_key": f"{payout['idempotency_key']}-{payout['key_generation']}"},
        )
    except stripe.InvalidRequestError as exc:  # a definite refusal: no transfer was made for this key
        if exc.code == "balance_insufficient":
            await _wait(payout, BALANCE, backoff(payout["attempts"]), str(exc), next_key=True)
            return "waiting"
        if exc.code == "insufficient_capabilities_for_transfer":
            await _wait(payout, ONBOARDING, ONBOARDING_RETRY, str(exc), next_key=True)
            return "waiting"
        await _wait(payout, f"The payment provider refused the transfer: {exc.user_message or exc}", timedelta(0),
                    str(exc), next_key=True, failed=True)
        return "failed"
    except stripe.StripeError as exc:  # timeout, connection, 5xx, rate limit: maybe made, so keep the key
        await _wait(payout, PROVIDER, backoff(payout["attempts"]), f"{type(exc).__name__}: {exc}")
        return "waiting"
    await _record_transfer(payout["id"], transfer.id)
    return "paid"


async def execute_due_payouts(limit: int = 100) -> int:
    """The worker's job: pay every due payout it can claim; returns how many were paid. An unexpected error
    is that payout's: it waits with the error and is retried later with the same idempotency key."""
    async def attempt(payout: dict[str, Any]) -> bool:
        return await release_milestone_payout(payout) == "paid"

    return await PAYOUTS.run(attempt, limit)


async def wake_waiting_payouts(organisation_id: object) -> int:
    """The company finished onboarding: retry its waiting payouts at once."""
    woken = await Payout.update({Payout.next_attempt_at: now()}).where(
        (Payout.company == organisation_id) & (Payout.status == Payout.Status.waiting)).returning(Payout.id)
    return len(woken)


async def check_transfer_event(event_transfer: dict[str, Any]) -> Apply:
    """`transfer.*` webhooks are hints: the transfer is read back from Stripe, and a payout moves only when
    that transfer is the one the worker made for it (amount, currency, the company's connected account,
    the payout in its metadata, and the transfer id the worker recorded, if any)."""
    from marketplace.payments.webhooks import ignored

    transfer_id = event_transfer.get("id")
    if not isinstance(transfer_id, str) or not TRANSFER_ID.fullmatch(transfer_id):
        return ignored("the transfer id is not a Stripe transfer id")
    metadata = event_transfer.get("metadata")
    payout_ref = metadata.get("payout_id") if isinstance(metadata, dict) else None
    try:
        payout_uuid = uuid.UUID(payout_ref) if isinstance(payout_ref, str) else None
    except ValueError:
        return ignored("metadata.payout_id is not a payout id")
    condition = Payout.stripe_transfer_id == transfer_id
    if payout_uuid is not None:
        condition = condition | (Payout.id == payout_uuid)
    payout = await Payout.select().where(condition).first()
    if payout is None:
        return ignored("no payout of the marketplace")
    truth = await from_stripe(gateway.client().v1.transfers.retrieve_async(transfer_id))
    account = await PaymentAccount.select().where(PaymentAccount.organisation == payout["company"]).first()
    problems = _mismatches(payout, account, event_transfer, "event") + (
        _mismatches(payout, account, truth, "Stripe") if truth is not None
        else [f"Stripe has no transfer {transfer_id}"])
    if problems:
        return _refuse_mismatch(payout, transfer_id, problems)
    if truth is not None and (truth.get("reversed") or truth.get("amount_reversed")):
        return lambda: _mark_reversed(payout["id"], transfer_id)
    return lambda: _confirm_paid(payout["id"], transfer_id)


def _mismatches(payout: dict[str, Any], account: dict[str, Any] | None, transfer: dict[str, Any], source: str) -> list[str]:
    """How `transfer` (as the event or Stripe says) differs from what the worker made for `payout`."""
    metadata = transfer.get("metadata") if isinstance(transfer.get("metadata"), dict) else {}
    expected = {
        "amount": payout["amount_cents"], "currency": payout["currency"].lower(),
        "destination": account["stripe_account_id"] if account else "(the company has no connected account)",
        "metadata.payout_id": str(payout["id"]),
    }
    found = {"amount": transfer.get("amount"), "currency": str(transfer.get("currency") or "").lower(),
             "destination": transfer.get("destination"), "metadata.payout_id": metadata.get("payout_id")}
    problems = [f"{source}: {name} is {_shown(found[name])}, expected {value!r}" for name, value in expected.items()
                if found[name] != value]
    if payout["stripe_transfer_id"] and transfer.get("id") != payout["stripe_transfer_id"]:
        problems.append(f"{source}: transfer {_shown(transfer.get('id'))}, the worker made {payout['stripe_transfer_id']!r}")
    return problems


def _shown(value: Any) -> str:
    """A value from an event, safe to put in a mail and a log line (quoted, escaped, short)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _refuse_mismatch(payout: dict[str, Any], transfer_id: str, problems: list[str]) -> Apply:
    async def apply() -> str:
        await audit.record(None, "payout.webhook_mismatch", "payout", payout["id"],
                           {"transfer": transfer_id, "problems": problems})
        await _tell_platform_admins(payout, transfer_id, problems)
        log.warning("payout %s: transfer event for %s refused: %s", payout["id"], transfer_id, "; ".join(problems))
        return f"mismatch, nothing changed: {'; '.join(problems)}"

    return apply


async def _confirm_paid(payout_id: object, transfer_id: str) -> str:
    if await _mark_paid(payout_id, transfer_id):
        return "paid"
    status = (await Payout.select(Payout.status).where(Payout.id == payout_id).first())["status"]
    return "already paid" if status == Payout.Status.paid else f"ignored: the payout is {status}"


async def _mark_reversed(payout_id: object, transfer_id: str) -> str:
    """Stripe reversed the transfer: the payout fails for good (from any state but failed)."""
    async with transaction():
        moved = await Payout.update({
            Payout.status: Payout.Status.failed, Payout.status_reason: REVERSED, Payout.stripe_transfer_id: transfer_id,
            Payout.claimed_until: None,
        }).where((Payout.id == payout_id) & Payout.status.is_in(REVERSIBLE)).returning(Payout.id)
        if not moved:
            return "already reversed"
        await audit.record(None, "payout.reversed", "payout", payout_id, {"transfer": transfer_id})
    return "reversed"


async def _tell_platform_admins(payout: dict[str, Any], transfer_id: str, problems: list[str]) -> None:
    """Every platform admin, by e-mail and in the app, in their own language."""
    from marketplace.accounts.tables import User
    from marketplace.core.i18n import LOCALES, N_
    from marketplace.mail.services import enqueue_mail, notify

    admins = await User.select(User.id, User.email, User.name, User.locale).where(
        (User.is_platform_admin == True) & (User.active == True))  # noqa: E712
    for admin in admins:
        locale = admin["locale"] if admin["locale"] in LOCALES else "en"
        await enqueue_mail(admin["email"], "payout_mismatch", locale=locale, name=admin["name"], payout=str(payout["id"]),
                           transfer=transfer_id, problems=problems, link="/notifications")
        await notify(admin["id"], "payout_mismatch", N_("A payment provider event did not match its payout: %(transfer)s"),
                     body="\n".join(problems), link="/notifications", transfer=transfer_id)


def payout_out(row: dict[str, Any], moment: datetime | None = None) -> PayoutOut:
    moment = moment or now()
    late = clock.days_late(row["due_by"], row["paid_at"], moment)
    return PayoutOut(
        id=str(row["id"]), milestone_id=str(row["milestone"]),
        contract_id=str(row["contract_id"]) if row["contract_id"] else None,
        amount=money(row["amount_cents"], row["currency"]), status=row["status"], status_reason=row["status_reason"],
        stripe_transfer_id=row["stripe_transfer_id"], transfer_group=row["transfer_group"],
        accepted_at=rfc3339(row["accepted_at"]) or "", due_by=rfc3339(row["due_by"]) or "", paid_at=rfc3339(row["paid_at"]),
        days_left=clock.days_left(row["due_by"], moment),
        late_interest=money(clock.late_interest_cents(row["amount_cents"], late, get_settings().ecb_reference_rate_bp), row["currency"]),
        compensation=money(clock.compensation_cents(late), row["currency"]),
    )


async def payouts_visible_to(organisation_ids: list[str], contract_id: str | None = None,
                             experiment_id: str | None = None) -> list[PayoutOut]:
    if not organisation_ids:
        return []
    query = Payout.select().where(Payout.company.is_in(organisation_ids) | Payout.buyer.is_in(organisation_ids))
    if contract_id:
        query = query.where(Payout.contract_id == contract_id)
    if experiment_id:
        query = query.where(Payout.experiment == experiment_id)
    moment = now()
    return [payout_out(r, moment) for r in await query.order_by(Payout.accepted_at)]


async def unpaid_payouts(organisation_ids: list[str], side: str) -> list[dict[str, Any]]:
    """For the home page: payouts not paid yet where these organisations pay (`side="buyer"`) or are paid
    (`side="company"`), earliest due first: `id`, `amount_cents`, `currency`, `status`, `due_by`, `milestone_title`,
    `experiment`, `counterpart` (the other party's name)."""
    if not organisation_ids:
        return []
    mine, other = (Payout.buyer, Payout.company) if side == "buyer" else (Payout.company, Payout.buyer)
    return await Payout.select(Payout.id, Payout.amount_cents, Payout.currency, Payout.status, Payout.due_by,
                               Payout.milestone.title.as_alias("milestone_title"), Payout.experiment,
                               other.name.as_alias("counterpart")).where(
        (Payout.status != Payout.Status.paid) & mine.is_in([uuid.UUID(str(o)) for o in organisation_ids])).order_by(Payout.due_by)
