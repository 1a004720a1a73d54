"""The payment statement of a payout: a PDF (through the documents domain) with the milestone, the
amount, the payment clock and any statutory late-payment interest; a new version only when it changes."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.accounts.tables import Organisation
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now
from marketplace.core.errors import NotFound
from marketplace.documents.services import render_and_store
from marketplace.documents.tables import Document
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.payments import clock
from marketplace.payments.payouts import payout_out
from marketplace.payments.tables import Payout
from marketplace.settings import get_settings


def _percent(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d} %"


async def visible_payout(principal: Principal, payout_id: str) -> dict[str, Any]:
    try:
        row = await Payout.select().where(Payout.id == uuid.UUID(payout_id)).first()
    except ValueError:
        row = None
    if row is None or not (principal.is_platform_admin or str(row["company"]) in principal.organisations()
                           or str(row["buyer"]) in principal.organisations()):
        raise NotFound("payout")
    return row


async def payment_statement(principal: Principal, payout_id: str, language: str) -> Document:
    """The statement as it stands now, rendered and stored (unchanged bytes keep the current version)."""
    row = await visible_payout(principal, payout_id)
    moment = now()
    milestone = await Milestone.select().where(Milestone.id == row["milestone"]).first()
    experiment = await Experiment.select().where(Experiment.id == row["experiment"]).first()
    orgs = {o["id"]: o for o in await Organisation.select().where(Organisation.id.is_in([row["buyer"], row["company"]]))}
    ecb = get_settings().ecb_reference_rate_bp
    return await render_and_store(
        "payment_statement", "payout", row["id"], language, "payment_statement.html",
        payout=payout_out(row, moment), milestone=milestone, experiment=experiment,
        buyer=orgs[row["buyer"]], company=orgs[row["company"]],
        accepted_on=as_utc(row["accepted_at"]).date(), due_on=as_utc(row["due_by"]).date(),
        paid_on=as_utc(row["paid_at"]).date() if row["paid_at"] else None,
        issued_on=(as_utc(row["paid_at"]) if row["paid_at"] else moment).date(),
        late_days=clock.days_late(row["due_by"], row["paid_at"], moment),
        ecb_rate=_percent(ecb), statutory_rate=_percent(ecb + clock.STATUTORY_MARGIN_BP),
        reference=f"{experiment['title'][:60]} · {milestone['title'][:60]}",
    )
