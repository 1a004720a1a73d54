"""E-mails as people receive them: read back from a real SMTP server (aiosmtpd), text and HTML parts, real subjects."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace.mail.compose import compose
from marketplace.mail.services import deliver_due_mail, enqueue_mail
from tests.test_mail_smtp import smtp, subject_of  # noqa: F401  (the fixture)

MAIL_DIR = Path(__file__).resolve().parent.parent / "templates" / "mail"


async def _received(smtp, template: str, locale: str = "en", **context):  # noqa: F811
    await enqueue_mail("lena@example.be", template, locale=locale, **context)
    assert await deliver_due_mail() == 1
    return smtp.messages[-1]["message"]


async def test_a_subject_never_swallows_the_greeting_and_a_link_stands_on_its_own_line(smtp):  # noqa: F811
    message = await _received(smtp, "milestone_reviewed", name="Lena Claes", milestone="Prototype", accepted=True,
                              feedback="", link="/experiments/x#milestone-1")
    assert subject_of(message) == "Milestone accepted: Prototype"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Hello Lena Claes,\n")
    assert "within 30 days.\n" in text and "\nhttp://" in text  # the link is not glued to the sentence
    link = next(line for line in text.splitlines() if line.startswith("http"))
    assert link.endswith("/experiments/x#milestone-1")


async def test_every_mail_is_multipart_text_and_html_saying_the_same(smtp):  # noqa: F811
    message = await _received(smtp, "contract_issued", locale="fr", name="Lena", challenge="Triage", number="TC-1",
                              link="/contracts/1")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Bonjour Lena," in text and "Bonjour Lena," in html
    assert '<a href="http://' in html and '/contracts/1">' in html
    assert "<script" not in html


async def test_html_part_escapes_what_people_wrote(smtp):  # noqa: F811
    message = await _received(smtp, "objection_raised", name="Ann", challenge="Triage", text="<b>unfair</b> & wrong",
                              link="/awards/1")
    html = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;unfair&lt;/b&gt; &amp; wrong" in html and "<b>unfair" not in html


@pytest.mark.parametrize("path", sorted(p for p in MAIL_DIR.glob("*.txt")), ids=lambda p: p.stem)
def test_every_mail_template_starts_with_a_subject_line(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("Subject: "), path.name


def test_compose_keeps_line_ends_after_a_closing_tag():
    composed = compose("milestone_reviewed", "nl", name="Lena", milestone="Prototype", accepted=False, feedback="Meer tests",
                       link="/x", base_url="https://example.be")
    assert "\n" not in composed.subject and "Lena" not in composed.subject
    assert "Meer tests" in composed.text and "\nhttps://example.be/x\n" in composed.text
