"""An alert in plain words, in the reader's language: "New challenges containing emergency and calls, on the topic
mobility, with a budget of at least €10,000.00." rather than its raw terms."""

from __future__ import annotations

import re

from babel.lists import format_list

from marketplace.challenges import schemas
from marketplace.core import i18n
from marketplace.core.i18n import gettext as _
from marketplace.core.money import format_money


def _listed(items: list[str], style: str) -> str:
    return format_list(items, style=style, locale=i18n.current_locale.get())


def _amount(cents: int) -> str:
    return format_money(cents, "EUR", i18n.current_locale.get())


def describe(alert: schemas.SubscriptionOut) -> str:
    """One sentence saying which new challenges the alert tells about."""
    if alert.search is not None:
        return _search_words(alert.search)
    parts = []
    if alert.topics:
        parts.append(_("about %(topics)s", topics=_listed(alert.topics, "or")))
    if alert.cpv_prefixes:
        parts.append(_("with a CPV code starting with %(codes)s", codes=_listed(alert.cpv_prefixes, "or")))
    if alert.keywords:
        parts.append(_("mentioning %(words)s", words=_listed(alert.keywords, "or")))
    return _("New challenges %(what)s.", what=_(", or ").join(parts))  # each part may itself say "or"


def _search_words(search: schemas.SavedSearch) -> str:
    parts = []
    words = re.findall(r"\w+", search.q)
    if words:
        parts.append(_("containing %(words)s", words=_listed(words, "standard")))
    if search.topic:
        parts.append(_("on the topic %(topic)s", topic=search.topic))
    if search.cpv:
        parts.append(_("with a CPV code starting with %(codes)s", codes=search.cpv))
    low, high = search.min_budget, search.max_budget
    if low is not None and high is not None:
        parts.append(_("with a budget between %(low)s and %(high)s", low=_amount(low), high=_amount(high)))
    elif low is not None:
        parts.append(_("with a budget of at least %(amount)s", amount=_amount(low)))
    elif high is not None:
        parts.append(_("with a budget of at most %(amount)s", amount=_amount(high)))
    return _("New challenges %(what)s.", what=", ".join(parts))
