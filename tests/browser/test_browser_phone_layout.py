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
