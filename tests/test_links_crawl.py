"""Every link answers: a crawler follows the links of every page, and of every e-mail, as every demo user
and as an anonymous visitor, and fails on a 404, 405 or 500 (a 403 for a page that is not theirs is fine)."""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urlsplit

import httpx

from marketplace.demo import DEMO_PASSWORD, load_demo
from marketplace.mail.tables import OutboxMessage
from marketplace.settings import get_settings
from tests.factories import csrf_token

BROKEN = {404, 405, 500}
HREF = re.compile(r'href="([^"]+)"')
SKIP = ("/signout", "/language/", "/static/", "/schema", "/favicon", "/sandbox/", "mailto:")
PER_USER = 150  # pages per person: enough to reach every kind of page the demo has
PER_SHAPE = 3
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _same_site(href: str) -> str | None:
    href = urldefrag(href.replace("&amp;", "&"))[0]
    parts = urlsplit(href)
    base = urlsplit(get_settings().base_url)
    if parts.scheme and parts.netloc != base.netloc:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not path.startswith("/") or any(path.startswith(s) for s in SKIP):
        return None
    return path


async def crawl(client: httpx.AsyncClient, start: list[str], limit: int = PER_USER) -> dict[str, tuple[int, str]]:
    """Breadth-first over same-site links; returns {path: (status, found on)} for broken ones."""
    seen: set[str] = set()
    per_shape: Counter[str] = Counter()  # /challenges/<id> is crawled for a few ids, not every one
    queue = deque((path, "(start)") for path in start)
    broken: dict[str, tuple[int, str]] = {}
    while queue and len(seen) < limit:
        path, found_on = queue.popleft()
        shape = ID.sub("<id>", path.split("?")[0])
        if path in seen or per_shape[shape] >= PER_SHAPE:
            continue
        seen.add(path)
        per_shape[shape] += 1
        response = await client.get(path)
        if response.status_code in BROKEN:
            broken[path] = (response.status_code, found_on)
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for href in HREF.findall(response.text):
            target = _same_site(href)
            if target and target not in seen:
                queue.append((target, path))
    return broken


async def _signed_in(app, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50002)), base_url="http://testserver")
    token = await csrf_token(client, "/signin")
    signed = await client.post("/signin", data={"email": email, "password": DEMO_PASSWORD, "_csrf_token": token})
    assert signed.status_code == 303, signed.text
    return client


async def test_every_link_answers_for_every_demo_user_and_in_every_email(app, client):
    logins = await load_demo()
    problems: dict[str, dict[str, tuple[int, str]]] = {}
    anonymous = await crawl(client, ["/", "/challenges", "/results", "/outcomes"])
    if anonymous:
        problems["anonymous"] = anonymous
    for email, _password, _who in logins:
        person = await _signed_in(app, email)
        try:
            found = await crawl(person, ["/", "/account", "/notifications"])
            mail_links = [_same_site(u) for m in await OutboxMessage.select(OutboxMessage.body_text).where(
                OutboxMessage.to_address == email) for u in re.findall(r"https?://\S+", m["body_text"])]
            for path in {p for p in mail_links if p}:
                status = (await person.get(path)).status_code
                if status in BROKEN:
                    found[path] = (status, "an e-mail")
        finally:
            await person.aclose()
        if found:
            problems[email] = found
    assert not problems, "\n".join(f"{who}: {path} -> {status} (linked from {where})"
                                   for who, pages in problems.items() for path, (status, where) in pages.items())
