"""Browser-test harness: the real app served by uvicorn on a loopback port, driven by Chromium.

Fixtures (see tests/browser/README.md):
- `server`: the base URL of the running marketplace (session-wide, same test database as the suite).
- `browser`: one headless Chromium for the session (Debian's /usr/bin/chromium; never downloaded).
- `page`: a fresh browser context and page per test, with `base_url` set (so `page.goto("/signup")` works).
- `sign_in(page, email, password=...)`: signs in through the real sign-in page.
- `assert_accessible(page)`: runs axe-core and fails on any serious or critical violation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("MARKETPLACE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items):
    """Every test under tests/browser/ carries the `browser` marker (select with -m browser)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
async def server(app) -> AsyncIterator[str]:
    """Serve the app with uvicorn in the test event loop, on a free loopback port.

    The server shares the suite's database (already migrated, emptied after each test) and the
    process (so time-machine and override_settings apply to it too). Lifespan is off: the
    `database` fixture already opened the pool, and the background worker stays off in tests."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # leave Ctrl-C to pytest
            yield

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning",
                            access_log=False, ws="none")
    srv = _Server(config)
    task = asyncio.create_task(srv.serve())
    for _ in range(500):
        if srv.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not srv.started:
        task.cancel()
        pytest.fail(f"uvicorn did not start on 127.0.0.1:{port}")
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser():
    """Headless Chromium from the system. Missing Chromium is a failure, never a silent skip."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (once per session)
        pytest.fail(
            f"Chromium is needed for the browser tests but {CHROMIUM} does not exist. "
            "Install it with `sudo bash deploy/system-deps.sh` (or `sudo apt-get install -y chromium`), "
            "or point MARKETPLACE_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    try:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:
        await pw.stop()
        pytest.fail(f"Chromium at {CHROMIUM} would not start: {exc}", pytrace=False)
    yield chromium
    await chromium.close()
    await pw.stop()


@pytest.fixture
async def new_page(browser, server):
    """Open more pages, each in its own context (its own cookies): `other = await new_page()`."""
    contexts = []

    async def make(locale: str = "en-GB"):
        context = await browser.new_context(base_url=server, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return await context.new_page()

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture
async def page(new_page):
    """A fresh page (own cookies), English, with `base_url` pointing at the served app."""
    return await new_page()


async def sign_in(page, email: str, password: str = PASSWORD, next_path: str | None = None) -> None:
    """Sign in through the real sign-in page; fails with the page's message if it does not work."""
    await page.goto("/signin" + (f"?next={next_path}" if next_path else ""))
    await page.fill("#f-email", email)
    await page.fill("#f-password", password)
    async with page.expect_navigation():
        await page.click("main form button[type=submit]")
    if "/signin" in page.url:
        message = await page.locator(".error-summary").all_inner_texts()
        pytest.fail(f"sign-in as {email} failed: {' '.join(message) or page.url}")


async def axe_violations(page, impacts=BLOCKING_IMPACTS) -> list[dict]:
    """axe-core violations on the current page with one of `impacts`."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])][:5]
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} -> {'; '.join(targets)}")
    return "\n".join(lines)


async def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the current page."""
    found = await axe_violations(page)
    assert not found, f"accessibility violations on {page.url}:\n{describe_violations(found)}"


@pytest.fixture(name="sign_in")
def sign_in_fixture():
    return sign_in


@pytest.fixture(name="assert_accessible")
def assert_accessible_fixture():
    return assert_accessible
