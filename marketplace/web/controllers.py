"""The home page, the language switch and the health check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Response, Template

from marketplace.core import i18n
from marketplace.core.auth import PUBLIC, allow
from marketplace.core.clock import from_db
from marketplace.core.db import engine
from marketplace.core.locale import LANG_COOKIE
from marketplace.settings import get_settings
from marketplace.web.pages import page, safe_next

HOME_OPEN_CHALLENGES = 5


@get("/", opt=allow(PUBLIC), include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Template:
    """What awaits the signed-in person, role by role; for everyone, the open challenges closing soonest and a search."""
    from marketplace.challenges.catalogue import JOINABLE, CatalogueQuery, search
    from marketplace.web.home import work_for

    principal = request.scope.get("user")
    work = await work_for(principal) if principal is not None else []
    found = await search(CatalogueQuery(status=JOINABLE, sort="closing", limit=str(HOME_OPEN_CHALLENGES)))
    return page(request, "home.html", work=work, open_challenges=[(c, from_db(c.closes_at)) for c in found.items])


@get("/language/{code:str}", opt=allow(PUBLIC), include_in_schema=False)
async def switch_language(code: str, next: str | None = None) -> Redirect:
    """Set the language cookie and go back where the user was."""
    response = Redirect(path=safe_next(next))
    if code in i18n.LOCALES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", secure=get_settings().secure_cookies)
    return response


@get("/healthz", opt=allow(PUBLIC), tags=["operations"])
async def health() -> dict[str, str]:
    """Liveness and database reachability."""
    await engine().run_ddl("SELECT 1")
    return {"status": "ok"}


FAVICON = (Path(__file__).resolve().parent / "static" / "favicon.svg").read_bytes()


@get("/favicon.ico", opt=allow(PUBLIC), include_in_schema=False)
async def favicon() -> Response[bytes]:
    """Browsers ask for /favicon.ico on every page: answer with the SVG icon, cached for a day."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
