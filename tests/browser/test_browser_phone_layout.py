"""On a 390 px phone, table-heavy pages never scroll sideways as a whole: their tables scroll inside
a focusable, labelled region instead."""

from __future__ import annotations

from marketplace.demo import DEMO_PASSWORD, load_demo
from tests.browser.conftest import sign_in

PHONE = {"width": 390, "height": 844}


async def page_width(page, path: str) -> int:
    response = await page.goto(path)
    assert response is not None and response.status == 200, path
    return await page.evaluate("document.scrollingElement.scrollWidth")


async def test_table_pages_fit_a_phone_and_their_tables_scroll_in_a_labelled_region(new_page):
    await load_demo()
    widths: dict[str, int] = {}
    for email, paths in (("pieter.desmet@gent.demo", ["/my/challenges", "/payments", "/contracts", "/account"]),
                         ("lena.claes@triagevoice.demo", ["/experiments", "/account"]),
                         ("amina.elidrissi@bdti.demo", ["/account"])):
        page = await new_page()
        await page.set_viewport_size(PHONE)
        await sign_in(page, email, DEMO_PASSWORD)
        for path in paths:
            widths[f"{path} ({email})"] = await page_width(page, path)
            regions = page.locator("main table")
            for i in range(await regions.count()):
                wrap = regions.nth(i).locator("xpath=..")
                assert await wrap.get_attribute("class") == "table-wrap", path
                assert await wrap.get_attribute("tabindex") == "0"
                assert await wrap.get_attribute("aria-label") or await wrap.get_attribute("aria-labelledby")
    print(widths)
    assert all(w <= PHONE["width"] for w in widths.values()), widths


async def test_a_phone_shows_content_first_behind_a_folded_menu(new_page):
    await load_demo()
    page = await new_page()
    await page.set_viewport_size(PHONE)
    await sign_in(page, "pieter.desmet@gent.demo", DEMO_PASSWORD)
    await page.goto("/language/en?next=/challenges")
    header = await page.locator(".site-header").bounding_box()
    assert header["height"] < 0.15 * PHONE["height"], header  # was 35-45 % of the first screen
    # The catalogue: the search box, then challenges; the seven filters wait behind "Filters and sorting".
    assert not await page.get_by_label("Topic").is_visible()
    first = await page.locator("main ul.list li.card").first.bounding_box()
    assert first["y"] < PHONE["height"], first
    menu = page.get_by_role("button", name="Menu")
    assert await menu.get_attribute("aria-expanded") == "false"
    account = page.locator('#site-menu a[href="/account"]')
    assert not await account.is_visible()
    await menu.click()
    assert await menu.get_attribute("aria-expanded") == "true"
    assert await account.is_visible()
    # Deadlines: Belgian time with its zone, and the reader's own time when their zone differs (this browser: UTC).
    deadline = page.locator("main time[data-local]").first
    assert "CET" in await deadline.inner_text() or "CEST" in await deadline.inner_text()
    assert "your time" in await page.locator("main .your-time").first.inner_text()
    # "Our challenges" shows every column: one card per row, nothing cut off.
    await page.goto("/my/challenges")
    cell = page.locator("table.stack td[data-label]").nth(3)
    box = await cell.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"], box
