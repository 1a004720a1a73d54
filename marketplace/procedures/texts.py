"""The texts of a procedure template, in English, French and Dutch."""

from __future__ import annotations

from markupsafe import escape

from marketplace.core import i18n


class Text(str):
    """A text a person reads (a name, label, help or description), in English, French and Dutch.

    Its value as a `str` is the English text: compare, hash and store it as before. Shown to a
    person it speaks the request's language: `str()`, f-strings, `%s`, Jinja's `{{ }}` and `_()`
    all give `local()`. Pass `text.local()` (or `str(text)`) to msgspec, which refuses `str` subclasses."""

    translations: dict[str, str]

    def __new__(cls, translations: dict[str, str]) -> Text:
        obj = super().__new__(cls, translations.get(i18n.DEFAULT_LOCALE, ""))
        obj.translations = dict(translations)
        return obj

    def local(self, locale: str | None = None) -> str:
        """The text in `locale` (default: the current request's), English when that one is missing."""
        lang = locale or i18n.current_locale.get()
        return self.translations.get(lang) or str.__str__(self)

    def __str__(self) -> str:
        return self.local()

    def __format__(self, spec: str) -> str:
        return format(self.local(), spec)

    def __html__(self) -> str:
        return str(escape(self.local()))

    def __reduce__(self):  # pickling (e.g. through a cache) keeps every language
        return (Text, (self.translations,))


EMPTY_TEXT = Text({lang: "" for lang in i18n.LOCALES})
