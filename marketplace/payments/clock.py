"""The payment clock (Directive 2011/7/EU): a public buyer pays within 30 days of accepting the work;
when late, statutory interest (the ECB reference rate + 8 percentage points, pro rata per day) and a
fixed EUR 40 compensation are due. Everything in integer cents."""

from __future__ import annotations

from datetime import datetime, timedelta

from marketplace.core.clock import as_utc

PAYMENT_TERM = timedelta(days=30)
STATUTORY_MARGIN_BP = 800  # 8 percentage points above the ECB reference rate
COMPENSATION_CENTS = 4000  # EUR 40 per late payment (art. 6)
DAYS_PER_YEAR = 365


def due_by(accepted_at: datetime) -> datetime:
    return as_utc(accepted_at) + PAYMENT_TERM


def days_left(due: datetime, moment: datetime) -> int:
    """Whole days until the due date (0 on the day itself, negative once late)."""
    return (as_utc(due).date() - as_utc(moment).date()).days


def days_late(due: datetime, paid_at: datetime | None, moment: datetime) -> int:
    """Days of delay: up to the payment, or up to now while unpaid."""
    end = as_utc(paid_at) if paid_at else as_utc(moment)
    return max(0, (end.date() - as_utc(due).date()).days)


def late_interest_cents(amount_cents: int, late_days: int, ecb_rate_bp: int) -> int:
    """amount × (ECB + 8 points) × days / 365, rounded half up to the cent."""
    if late_days <= 0:
        return 0
    numerator = amount_cents * (ecb_rate_bp + STATUTORY_MARGIN_BP) * late_days
    denominator = 10_000 * DAYS_PER_YEAR
    return (2 * numerator + denominator) // (2 * denominator)


def compensation_cents(late_days: int) -> int:
    return COMPENSATION_CENTS if late_days > 0 else 0
