"""English, French and Dutch: gettext catalogues (Babel .po files) and the request's locale."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "fr", "nl")
LOCALE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands"}
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("current_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    """The catalogue for `locale`: every `locale/<locale>/LC_MESSAGES/*.po` (one per domain),
    compiled in memory, so there is no build step and no merge conflict between domains."""
    files = sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))
    if locale == DEFAULT_LOCALE or not files:
        return NullTranslations()
    merged: Translations | None = None
    for po in files:
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(fp=buffer)
        if merged is None:
            merged = part
        else:
            merged._catalog.update(part._catalog)  # later files add to (and may refine) earlier ones
    assert merged is not None
    return merged


@contextmanager
def in_locale(locale: str) -> Iterator[None]:
    """Translate for a recipient (notifications are stored in their language), not for the current request."""
    token = current_locale.set(locale or DEFAULT_LOCALE)
    try:
        yield
    finally:
        current_locale.reset(token)


def gettext(message: str, **variables: object) -> str:
    """`message` in the current language. A text that carries its own translations (a procedure
    template's names and labels, with a `local()` method) gives its own rather than the catalogue's."""
    local = getattr(message, "local", None)
    text = local() if callable(local) else translations(current_locale.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the usual gettext name for "mark now, translate when shown"
    """Marks a message for the catalogues without translating it: it is translated where it is shown."""
    return message


def accepted_languages(accept_language: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first; `q=0` means "not this one" and is left out.

    Equal weights keep the header's order (RFC 9110 section 12.5.4)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag.strip() and q > 0:
            weighted.append((-q, position, tag.strip().replace("-", "_")))
    return [tag for _q, _pos, tag in sorted(weighted)]


def negotiate(accept_language: str | None) -> str | None:
    """The best of our locales for an Accept-Language header (Babel's negotiation), or None."""
    if not accept_language:
        return None
    preferred = accepted_languages(accept_language)
    return negotiate_locale(preferred, list(LOCALES), sep="_") if preferred else None
