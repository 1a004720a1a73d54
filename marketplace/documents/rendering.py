"""Jinja template -> PDF with WeasyPrint: A4, embedded DejaVu fonts, tagged (PDF/UA-1), titled.

The font configuration and the print stylesheet are built once per process and shared by every
render (that is what keeps a two-page contract under 100 ms warm). WeasyPrint's objects are not
meant to be shared between threads, so renders are serialised by a lock; callers on the event
loop use `render_pdf_async`, which runs the render in a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
from functools import lru_cache

from marketplace.core.templating import TEMPLATE_DIR, render

PRINT_CSS = TEMPLATE_DIR / "documents" / "print.css"
PDF_VARIANT = "pdf/ua-1"  # tagged PDF, document language and title required (WeasyPrint >= 63)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=1)
def _print_css():
    from weasyprint import CSS

    return CSS(filename=str(PRINT_CSS), font_config=_font_config())


def render_html(template: str, locale: str, **context: object) -> str:
    """The document's HTML, in `locale` (`templates/documents/<template>`)."""
    name = template if template.startswith("documents/") else f"documents/{template}"
    return render(name, locale=locale, **context)


def html_to_pdf(html: str) -> bytes:
    """Render HTML (whose <html lang> and <title> are set) to PDF bytes."""
    from weasyprint import HTML

    with _lock:
        return HTML(string=html, base_url=str(TEMPLATE_DIR / "documents")).write_pdf(
            stylesheets=[_print_css()],
            font_config=_font_config(),
            pdf_variant=PDF_VARIANT,
            # A fixed identifier and no creation date: the same content gives the same bytes, so
            # re-rendering an unchanged document never makes a new version.
            pdf_identifier=b"marketplace-document",
        )


def render_pdf(template: str, locale: str, **context: object) -> bytes:
    """Render `templates/documents/<template>` in `locale` to PDF bytes (blocking)."""
    return html_to_pdf(render_html(template, locale, **context))


async def render_pdf_async(template: str, locale: str, **context: object) -> bytes:
    """`render_pdf` off the event loop (the HTML is rendered here so that gettext sees `locale`)."""
    html = render_html(template, locale, **context)
    return await asyncio.to_thread(html_to_pdf, html)
