"""Every page of the marketplace, with the demo data loaded and signed in as a role that may see it,
has no serious or critical axe-core violation and never answers 5xx.

Pages are found automatically from the app's routes, so pages added by any domain are checked too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from marketplace.core import db
from marketplace.demo import DEMO_PASSWORD, PEOPLE, load_demo
from tests.browser.conftest import axe_violations, describe_violations, sign_in
from tests.browser.page_examples import ALIASES, EXAMPLES, SKIP_PREFIXES


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


def demo_logins_for(allow: Any) -> list[str | None]:
    """Demo e-mail addresses of people the rule allows, best first (None: anonymous)."""
    if allow == "public" or allow is None:
        return [None]
    if allow == "signed_in":
        return [email for _k, email, *_ in sorted(PEOPLE, key=lambda p: "company_member" not in p[4])]
    out: list[str] = []
    for role in allow:
        for key, email, _name, _org, roles, _locale, _who in PEOPLE:
            if (role in roles or (role == "platform_admin" and key == "admin")) and email not in out:
                out.append(email)
    return out


async def candidates(path: str, limit: int = 8) -> list[str] | None:
    """Concrete paths for a path template: each `{name}` takes example values (see page_examples.py);
    None when a parameter has none."""
    tables = {t._meta.tablename: t for t in db.all_tables()}
    paths = [path]
    for full, name in re.findall(r"(\{(\w+)(?::\w+)?\})", path):
        values: list[Any] = []
        if name in EXAMPLES:
            found = await EXAMPLES[name](None)
            values = list(found) if isinstance(found, list | tuple) else [found]
        elif name == "id" or name.endswith("_id"):
            thing = ALIASES.get(name.removesuffix("_id"), name.removesuffix("_id"))
            table = tables.get(thing) or tables.get(thing + "s") or next(
                (t for n, t in sorted(tables.items()) if n.endswith("_" + thing)), None)
            if table is not None:
                pk = table._meta.primary_key._meta.name
                values = [row[pk] for row in await table.select(table._meta.primary_key).limit(limit)]
        values = [v for v in values if v is not None]
        if not values:
            return None
        paths = [p.replace(full, str(v)) for p in paths for v in values][:limit * 5]
    return paths


async def test_every_page_is_accessible_with_the_demo_data(app, new_page):
    await load_demo()
    pages = html_pages(app)
    assert ("/", "public") in pages and ("/account", "signed_in") in pages

    browsers: dict[str | None, Any] = {}

    async def browser_for(login: str | None):
        if login not in browsers:
            browsers[login] = await new_page()
            if login:
                await sign_in(browsers[login], login, DEMO_PASSWORD)
        return browsers[login]

    problems: list[str] = []
    checked: list[str] = []
    skipped: list[str] = []
    for template, allow in pages:
        paths = await candidates(template)
        if paths is None:
            skipped.append(template)
            continue
        # Pages with parameters: the first (path, allowed person) that answers 200, else the last tried.
        tries = [(path, login) for path in paths for login in demo_logins_for(allow)]
        tries = tries[:3] if template.endswith(".pdf") else tries[:20]  # files are not axe-checked
        for attempt, (path, login) in enumerate(tries):
            page = await browser_for(login)
            response = await page.goto(path)
            status = response.status if response else 0
            if status == 200 or status >= 500 or attempt == len(tries) - 1:
                break
        who = login or "anonymous"
        if status >= 500:
            problems.append(f"{path} as {who}: HTTP {status}")
            continue
        if "{" not in template and status != 200:
            problems.append(f"{path} as {who}: HTTP {status} (expected 200; is the role mapping right?)")
        if "text/html" not in (response.headers.get("content-type", "") if response else ""):
            checked.append(f"{path} ({status}, {who}, not HTML: not axe-checked)")
            continue
        found = await axe_violations(page)
        if found:
            problems.append(f"{path} as {who}:\n{describe_violations(found)}")
        checked.append(f"{path} ({status}, {who})")
    print(f"\nvisited {len(checked)} pages:", *checked, sep="\n  ")
    if skipped:
        print("skipped (path parameters without an example, see tests/browser/page_examples.py):", *skipped, sep="\n  ")
    if problems:
        pytest.fail("Pages with problems:\n" + "\n".join(problems), pytrace=False)
