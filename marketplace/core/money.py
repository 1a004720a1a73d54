"""Money on the wire: `{"amount": <integer cents>, "currency": "EUR"}`; never a float."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import msgspec

Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
MAX_CENTS = 10**13  # a hundred billion euros: above any procurement, far below any integer overflow


class Money(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=0, le=MAX_CENTS)]
    currency: Currency = "EUR"


def money(amount_cents: int, currency: str = "EUR") -> Money:
    return Money(amount=amount_cents, currency=currency)


_BABEL_LOCALES = {"en": "en_IE", "fr": "fr_BE", "nl": "nl_BE"}


@lru_cache(maxsize=32)
def _babel_locale(locale: str):  # type: ignore[no-untyped-def]
    from babel import Locale

    return Locale.parse(_BABEL_LOCALES.get(locale, locale))


@lru_cache(maxsize=4096)
def format_money(amount_cents: int, currency: str = "EUR", locale: str = "en") -> str:
    """`EUR 30,000.00` as the locale writes it. Cached: Babel parses the locale and the pattern on every call,
    and a catalogue page shows the same few round amounts over and over."""
    from babel.numbers import format_currency

    return format_currency(amount_cents / 100, currency, locale=_babel_locale(locale))
