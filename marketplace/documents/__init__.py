"""Generated documents: Jinja templates rendered to PDF by WeasyPrint, stored as evidence.

Every document is A4, embeds its fonts (DejaVu), is tagged PDF/UA-1 with its language and title
(readable by a screen reader), and shows "Page N of M". Each stored document has a SHA-256 and
never changes: a changed document is a new `version` of the same (kind, subject, language).
The bytes live in the file storage (`marketplace.files`, folder `documents`), named by their SHA-256.

How another domain uses it (e.g. the evaluation report, the payment statement per payout):

1. Write `templates/documents/<name>.html` extending `documents/base.html`; fill the blocks
   `title` (the PDF title) and `body`; pass `reference=` (shown bottom left of every page).
   Wrap words in `{{ _("...") }}` and translate them in `marketplace/locale/<lang>/LC_MESSAGES/<domain>.po`.
   Filters: `money(currency)` for cents, `date`, `datetime`.
2. Render and store, inside your service (no HTTP here):

       from marketplace.documents.services import get_or_render, render_and_store, read_bytes
       doc = await get_or_render("payment_statement", "payout", payout.id, "fr",
                                 "payment_statement.html", reference=..., payout=...)
       doc.sha256, doc.version, doc.size_bytes   # evidence
       pdf = await read_bytes(doc)               # bytes, checked against the SHA-256

   `get_or_render` serves what is stored and renders only the first time; `render_and_store`
   always renders and keeps a new version only when the bytes changed (renders are
   deterministic: same content, same bytes). Lower level: `rendering.render_pdf(template,
   locale, **ctx) -> bytes` (blocking) / `render_pdf_async`, and `store_document(kind,
   subject_type, subject_id, language, pdf_bytes) -> Document`.
3. Serve it with `await marketplace.documents.controllers.pdf_response(doc, "statement")` after your own
   authorisation check.

This package also serves the public challenge brief: `GET /api/v1/challenges/{id}/brief`
(and `/challenges/{id}/brief.pdf` for the pages) for published challenges.
"""
