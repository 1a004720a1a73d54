"""E-mails from templates: a subject line, a plain-text body, and the same body as HTML.

`templates/mail/<name>.txt` starts with `Subject: ...`; the rest is the text body. The HTML part is
the text laid out in `templates/mail/_layout.html`: paragraphs, line breaks and links kept, so both
parts always say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup, escape

from marketplace.core.templating import render

_URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)]")


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str


def compose(template: str, locale: str, **context: object) -> Composed:
    """The subject and text body of `templates/mail/<template>.txt` in `locale`."""
    rendered = render(f"mail/{template}.txt", locale=locale, **context)
    first, _newline, body = rendered.partition("\n")
    subject = " ".join(first.removeprefix("Subject:").split())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in body.strip().splitlines())) + "\n"
    return Composed(subject=subject, text=text)


def _linked(line: str) -> Markup:
    out: list[str] = []
    pos = 0
    for match in _URL.finditer(line):
        out.append(escape(line[pos:match.start()]))
        url = escape(match.group(0))
        out.append(Markup('<a href="{0}">{0}</a>').format(url))
        pos = match.end()
    out.append(escape(line[pos:]))
    return Markup("").join(out)


def html_body(subject: str, text: str, locale: str = "") -> str:
    """The text body as an HTML document: one paragraph per block, links clickable, everything escaped."""
    paragraphs = [Markup("<br>\n").join(_linked(line) for line in block.splitlines())
                  for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return render("mail/_layout.html", locale=locale or None, subject=subject, paragraphs=paragraphs, lang=locale)
