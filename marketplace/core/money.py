"""Money on the wire: `{"amount": <integer cents>, "currency": "EUR"}`; never a float."""

from __future__ import annotations

from typing import Annotated

import msgspec

Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]


class Money(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=0, le=10**13)]
    currency: Currency = "EUR"


def money(amount_cents: int, currency: str = "EUR") -> Money:
    return Money(amount=amount_cents, currency=currency)


def format_money(amount_cents: int, currency: str = "EUR", locale: str = "en") -> str:
    from babel.numbers import format_currency

    return format_currency(amount_cents / 100, currency, locale={"en": "en_IE", "fr": "fr_BE", "nl": "nl_BE"}.get(locale, locale))
