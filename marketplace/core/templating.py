"""One Jinja environment for pages, e-mails and PDF documents, translated through gettext."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, format_timedelta, get_timezone
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.ext import Extension
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from marketplace.core import i18n
from marketplace.core.clock import as_utc, now
from marketplace.core.money import format_money
from marketplace.settings import resource_dir

TEMPLATE_DIR = resource_dir("templates")

_BABEL_LOCALE = {"en": "en_GB", "fr": "fr_BE", "nl": "nl_BE"}
_BRUSSELS = get_timezone("Europe/Brussels")


@cache
def _babel_locale(locale: str) -> Locale:
    """Parsed once: Babel parses a locale given by name on every call (and format_datetime does it three times)."""
    return Locale.parse(_BABEL_LOCALE[locale])


BRUSSELS = ZoneInfo("Europe/Brussels")


def _fmt_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """Belgian time to the minute, with its zone: "22 Dec 2026, 12:00 CET"."""
    if value is None:
        return ""
    return _formatted_moment(as_utc(value), fmt, i18n.current_locale.get())


@lru_cache(maxsize=8192)
def _formatted_moment(utc: datetime, fmt: str, language: str) -> str:
    """Remembered: the same deadlines and publication dates are shown on every catalogue and challenge page, and
    Babel's formatting of one was about a tenth of a millisecond (profiled; a catalogue page shows twenty)."""
    locale = _babel_locale(language)
    local = utc.astimezone(BRUSSELS)
    if fmt in ("medium", "short"):
        return f"{format_date(local, fmt, locale=locale)}, {format_time(local, 'HH:mm', locale=locale)} {local.tzname()}"
    return format_datetime(local, fmt, tzinfo=BRUSSELS, locale=locale)


def time_left(value: datetime, moment: datetime | None = None) -> str:
    """"closes in 3 days" / "closed 2 hours ago", in the reader's language."""
    delta = as_utc(value) - (moment or now())
    if delta.total_seconds() <= 0:
        return i18n.gettext("closed")
    locale = _babel_locale(i18n.current_locale.get())
    return i18n.gettext("closes %(when)s", when=format_timedelta(delta, add_direction=True, threshold=1.5, locale=locale))


def _fmt_deadline(value: datetime | None) -> Markup:
    """A deadline as people need it: Belgian time with its zone, to the minute, and how long is left.

    The page script adds the reader's own time when their zone differs (`data-local`)."""
    if value is None:
        return Markup("")
    utc = as_utc(value)
    # Escaped one by one: `Markup.format` (string.Formatter with an escaping hook) took half of this filter's time.
    return Markup(f'<time datetime="{escape(utc.isoformat())}" data-local>{escape(_fmt_datetime(utc))}</time> '
                  f'<span class="countdown">({escape(time_left(utc))})</span>')


def datetime_in_zone(value: datetime | None, zone: str, fmt: str = "full") -> str:
    """A moment in a named time zone (e.g. a pitch slot in the buyer's), in the reader's language, zone included."""
    if value is None:
        return ""
    return format_datetime(as_utc(value), fmt, tzinfo=zone, locale=_BABEL_LOCALE[i18n.current_locale.get()])


format_moment = _fmt_datetime  # for messages built in code (errors, notices)


def _fmt_date(value, fmt: str = "long") -> str:
    if value is None:
        return ""
    return format_date(value, fmt, locale=_babel_locale(i18n.current_locale.get()))


@pass_eval_context
def _gettext(eval_ctx: EvalContext, message: str, **variables: object) -> str:
    """`_()` in templates: what Jinja's newstyle gettext does (escaped variables in HTML, `%%` for a percent sign),
    without its two extra context-call layers per string (a catalogue page translates about a hundred)."""
    text = i18n.translations(i18n.current_locale.get()).gettext(message)
    if eval_ctx.autoescape:
        text = Markup(text)
    if not variables and "%" not in text:
        return text  # nothing to fill in nor unescape: `%` formatting (escaping each argument) skipped, same text
    return text % variables


def fmt_number(value: float | None) -> str:
    """A figure to one decimal as the reader's language writes it (`12.5`, `12,5`); `–` when there is none."""
    return "–" if value is None else format_decimal(value, format="#,##0.#", locale=_babel_locale(i18n.current_locale.get()))


def fmt_percent(value: float | None) -> str:
    """A share (0.75) as a whole percentage in the reader's language (`75%`, `75 %`); `–` when there is none."""
    return "–" if value is None else format_percent(value, format="#,##0%", locale=_babel_locale(i18n.current_locale.get()))


def _fmt_money(amount_cents: int | None, currency: str = "EUR") -> str:
    if amount_cents is None:
        return ""
    return format_money(amount_cents, currency, i18n.current_locale.get())


_TABLE_OPEN = re.compile(r"<table\b")
_ALREADY_WRAPPED = re.compile(r'<div[^>]*class="table-wrap"[^>]*>\s*$')
_CAPTION = re.compile(r"<caption([^>]*)>(.*?)</caption>", re.S)
_CAPTION_ID = re.compile(r'\bid="([^"]*)"')
_TAGS = re.compile(r"<[^>]+>")


def wrap_tables(source: str) -> str:
    """Put every table in a focusable, labelled region that scrolls sideways, so wide tables never widen a phone's page.

    The label is the table's caption (by id when it has one), otherwise "Table"."""
    out: list[str] = []
    pos = 0
    for match in _TABLE_OPEN.finditer(source):
        start = match.start()
        out.append(source[pos:start])
        pos = start
        if _ALREADY_WRAPPED.search(source[max(0, start - 400):start]):
            continue
        end = source.find("</table>", start)
        if end < 0:
            continue
        caption = _CAPTION.search(source, start, end)
        if caption and (cid := _CAPTION_ID.search(caption.group(1))):
            label = f'aria-labelledby="{cid.group(1)}"'
        elif caption and _TAGS.sub("", caption.group(2)).strip():
            label = f'aria-label="{_TAGS.sub("", caption.group(2)).strip()}"'
        else:
            label = "aria-label=\"{{ _('Table') }}\""
        out.append(f'<div class="table-wrap" role="region" tabindex="0" {label}>')
        out.append(source[start:end] + "</table></div>")
        pos = end + len("</table>")
    out.append(source[pos:])
    return "".join(out)


_STANDALONE_TAG = re.compile(r"^\s*\{%[^%]*%\}\s*$")


def keep_line_ends(source: str) -> str:
    """Plain-text templates (e-mails): a line that ends with a tag keeps its line end.

    `trim_blocks` removes the newline after every `%}`; that is right for a line holding only a tag,
    but it glued a subject to the greeting ("Milestone accepted: PrototypeHello") and links to sentences."""
    lines = source.split("\n")
    return "\n".join(line + "\n" if line.rstrip().endswith("%}") and not _STANDALONE_TAG.match(line) else line
                     for line in lines)


class TableWrapExtension(Extension):
    """Pages only: documents (PDF) and e-mails keep their tables as written."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if name and name.startswith("mail/") and name.endswith(".txt"):
            return keep_line_ends(source)
        if name and (name.startswith("documents/") or name.startswith("mail/")):
            return source
        return wrap_tables(source) if "<table" in source else source


def procedure_name(template_id: str, version: int | None = None) -> str:
    """A procedure's name in the reader's language (its id only if the template is gone)."""
    from marketplace.procedures import engine

    try:
        return str(engine.get(template_id, version).name if version else engine.latest(template_id).name)  # type: ignore[union-attr]
    except (KeyError, AttributeError, LookupError):
        return template_id


def stage_name(template_id: str, stage_key: str, version: int | None = None) -> str:
    """A stage's name in the reader's language, never its key ("Short proposal", not "short_proposal")."""
    from marketplace.procedures import engine

    try:
        template = engine.get(template_id, version) if version else engine.latest(template_id)
        return str(template.stage(stage_key).name)  # type: ignore[union-attr]
    except (KeyError, AttributeError, LookupError):
        return stage_key


def css_string(value: object) -> Markup:
    """A CSS string literal: `"Statement · 2026"` (JSON's `\u00b7` escapes mean nothing to CSS and print as "u00b7")."""
    text = str(value)
    escaped = "".join(ch if ch.isprintable() and ch not in '"\\<>' else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{escaped}"')


def configure(env: Environment) -> Environment:
    """Add our translations, filters and globals to a Jinja environment."""
    env.auto_reload = False  # no stat() of every template file on every render: templates change with a restart
    env.add_extension("jinja2.ext.i18n")
    env.add_extension(TableWrapExtension)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.gettext(message),  # a procedure template's texts carry their own translations
        lambda s, p, n: i18n.translations(i18n.current_locale.get()).ngettext(s, p, n),
        newstyle=True,
    )
    env.globals["_"] = _gettext
    env.filters["datetime"] = _fmt_datetime
    env.filters["deadline"] = _fmt_deadline
    env.filters["css_string"] = css_string
    env.filters["date"] = _fmt_date
    env.filters["datetime_in"] = datetime_in_zone
    env.filters["money"] = _fmt_money
    env.filters["number"] = fmt_number
    env.filters["percent"] = fmt_percent
    env.globals["procedure_name"] = procedure_name
    env.globals["stage_name"] = stage_name
    env.globals["LOCALES"] = i18n.LOCALES
    env.globals["LOCALE_NAMES"] = i18n.LOCALE_NAMES
    env.globals["current_locale"] = i18n.current_locale.get
    return env


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The environment for e-mails and documents (pages use Litestar's, configured the same way)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return configure(env)


def render(template_name: str, locale: str | None = None, **context: object) -> str:
    """Render a template in `locale` (default: the current one)."""
    token = i18n.current_locale.set(locale) if locale else None
    try:
        return environment().get_template(template_name).render(locale=i18n.current_locale.get(), **context)
    finally:
        if token is not None:
            i18n.current_locale.reset(token)


def template_path(name: str) -> Path:
    return TEMPLATE_DIR / name
