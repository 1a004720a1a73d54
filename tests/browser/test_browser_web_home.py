"""The home page in a browser (issue #15): a visitor finds open challenges and searches them; signed-in people see
what awaits them, follow an item to where the work is done; on a phone it never scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

from marketplace.challenges.tables import Question
from marketplace.core.clock import now
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import make_org, make_user
from tests.factories_challenges import make_challenge
from tests.factories_proposals import make_open_challenge, make_proposal

PHONE = {"width": 390, "height": 844}
DAY = timedelta(days=1)


async def test_a_visitor_sees_open_challenges_closing_soonest_and_searches_them(page):
    await make_open_challenge(title="Quiet night buses", start=now() - 2 * DAY)
    await make_open_challenge(title="Cooler school playgrounds", start=now() - 20 * DAY)
    await page.goto("/")
    open_list = page.locator("section.home-open ul.list h3")
    assert await open_list.all_inner_texts() == ["Cooler school playgrounds", "Quiet night buses"]
    assert await page.get_by_role("heading", name="How it works").is_visible()
    await assert_accessible(page)
    await page.get_by_role("search").get_by_label("Search challenges").fill("playgrounds")
    async with page.expect_navigation():
        await page.get_by_role("search").get_by_role("button", name="Search").click()
    assert "/challenges?q=playgrounds" in page.url
    assert await page.locator("main ul.list h3").all_inner_texts() == ["Cooler school playgrounds"]


async def test_a_civil_servant_follows_a_waiting_question_to_the_page_where_it_is_answered(page):
    body = await make_org("public_body")
    servant = await make_user("civil_servant", "procurement_officer", org=body)
    challenge = await make_challenge(body, title="Safer school crossings")
    for text in ("Which schools take part?", "At what hours?"):
        await Question.insert(Question(challenge=challenge.id, text=text, asked_at=now() - DAY))
    await page.set_viewport_size(PHONE)
    await sign_in(page, servant.email)
    await page.goto("/")
    answer = page.locator('section[aria-labelledby="civil_servant-answer"]')
    assert await answer.get_by_role("heading").inner_text() == "Questions to answer 2"
    assert await page.get_by_role("heading", name="Procurement officer", exact=True).is_visible()  # both roles
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    await assert_accessible(page)
    async with page.expect_navigation():
        await answer.get_by_role("link", name="Safer school crossings").click()
    assert page.url.endswith(f"/challenges/{challenge.id}/questions")
    assert await page.get_by_text("Which schools take part?").is_visible()


async def test_a_company_reads_its_deadlines_in_french_and_opens_its_draft(new_page):
    founder = await make_user("company_member", locale="fr")
    challenge = await make_open_challenge(title="Canaux plus propres")
    draft = await make_proposal(challenge, founder.org)
    page = await new_page(locale="fr-BE")
    await page.set_viewport_size(PHONE)
    await sign_in(page, founder.email)
    await page.goto("/language/fr?next=/")
    drafts = page.locator('section[aria-labelledby="company_member-drafts"]')
    assert await page.get_by_role("heading", name="Ce qui vous attend").is_visible()
    text = await drafts.inner_text()
    assert "brouillon, non déposé" in text and ("CET" in text or "CEST" in text)  # Belgian time with its zone
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    await assert_accessible(page)
    async with page.expect_navigation():
        await drafts.get_by_role("link", name="Canaux plus propres").click()
    assert page.url.endswith(f"/proposals/{draft.id}")


async def test_every_demo_persons_home_fits_a_phone_is_accessible_and_every_link_opens(new_page):
    from marketplace.demo import DEMO_PASSWORD, load_demo

    await load_demo()
    for email in ("sofie.peeters@112.demo", "marc.dubois@112.demo", "ines.janssens@112.demo", "pieter.desmet@gent.demo",
                  "amina.elidrissi@bdti.demo", "lena.claes@triagevoice.demo"):
        page = await new_page()
        await page.set_viewport_size(PHONE)
        await sign_in(page, email, DEMO_PASSWORD)
        await page.goto("/language/en?next=/")
        assert await page.get_by_role("heading", name="What awaits you").is_visible()
        assert await page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"], email
        await assert_accessible(page)
        links = await page.locator("section.home-section a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert links, email  # at least each section's "See all"
        for href in set(links):
            response = await page.request.get(href)
            assert response.status == 200, f"{email}: {href} answered {response.status}"
