"""Every page of the marketplace, with the demo data loaded and signed in as a role that may see it,
has no serious or critical axe-core violation and never answers 5xx.

Pages are found automatically from the app's routes, so pages added by any domain are checked too.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from marketplace.core import db
from marketplace.demo import DEMO_PASSWORD, PEOPLE, load_demo
from tests.browser.conftest import axe_violations, describe_violations, sign_in
from tests.browser.page_examples import EXAMPLES, SKIP_PREFIXES


def html_pages(app) -> list[tuple[str, Any]]:
    """(path template, allow rule) of every GET page."""
    pages = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(SKIP_PREFIXES) or route.path in ("/schema",):
            continue
        for handler in route.route_handlers:
            if "GET" in handler.http_methods:
                pages.append((route.path, handler.opt.get("allow")))
    return sorted(pages)


def demo_login_for(allow: Any) -> str | None:
    """The demo e-mail address of someone allowed by the rule (None: visit anonymously)."""
    if allow == "public" or allow is None:
        return None
    wanted = ["company_member"] if allow == "signed_in" else list(allow)
    for role in wanted:
        if role == "platform_admin":
            return next(p[1] for p in PEOPLE if p[0] == "admin")
        for _key, email, _name, _org, roles, _locale, _who in PEOPLE:
            if role in roles:
                return email
    return None


async def fill(path: str, ctx: Any) -> str | None:
    """Replace every `{name:type}` with an example value; None when one cannot be found."""
    tables = {t._meta.tablename: t for t in db.all_tables()}
    out = path
    for full, name in re.findall(r"(\{(\w+)(?::\w+)?\})", path):
        value: Any = None
        if name in EXAMPLES:
            value = await EXAMPLES[name](ctx)
        elif name == "id" or name.endswith("_id"):
            thing = name.removesuffix("_id")
            table = tables.get(thing) or tables.get(thing + "s")
            if table is not None:
                row = await table.select(table._meta.primary_key).first()
                value = row and row[table._meta.primary_key._meta.name]
        if value is None:
            return None
        out = out.replace(full, str(value) if not isinstance(value, uuid.UUID) else str(value))
    return out


async def test_every_page_is_accessible_with_the_demo_data(app, new_page):
    await load_demo()
    pages = html_pages(app)
    assert ("/", "public") in pages and ("/account", "signed_in") in pages

    browsers: dict[str | None, Any] = {}
    problems: list[str] = []
    checked: list[str] = []
    skipped: list[str] = []
    for template, allow in pages:
        path = await fill(template, None)
        if path is None:
            skipped.append(template)
            continue
        login = demo_login_for(allow)
        if login not in browsers:
            browsers[login] = await new_page()
            if login:
                await sign_in(browsers[login], login, DEMO_PASSWORD)
        page = browsers[login]
        response = await page.goto(path)
        status = response.status if response else 0
        who = login or "anonymous"
        if status >= 500:
            problems.append(f"{path} as {who}: HTTP {status}")
            continue
        if "{" not in template and status != 200:
            problems.append(f"{path} as {who}: HTTP {status} (expected 200; is the role mapping right?)")
        if "text/html" not in (response.headers.get("content-type", "") if response else ""):
            continue
        found = await axe_violations(page)
        if found:
            problems.append(f"{path} as {who}:\n{describe_violations(found)}")
        checked.append(f"{path} ({status}, {who})")
    print(f"\naxe-checked {len(checked)} pages:", *checked, sep="\n  ")
    if skipped:
        print("skipped (path parameters without an example, see tests/browser/page_examples.py):", *skipped, sep="\n  ")
    if problems:
        pytest.fail("Pages with problems:\n" + "\n".join(problems), pytrace=False)
