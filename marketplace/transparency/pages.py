"""The public outcomes page: what came of each closed or awarded challenge, and how fast buyers answered, decided and paid."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from marketplace.core.auth import PUBLIC, allow
from marketplace.experiments.pages import as_date
from marketplace.transparency import services
from marketplace.web.pages import page


@get("/outcomes", opt=allow(PUBLIC), include_in_schema=False)
async def outcomes_page(request: Request[Any, Any, Any]) -> Template:
    return page(request, "transparency/outcomes.html", outcomes=await services.outcomes(), as_date=as_date)


ROUTES = [outcomes_page]
