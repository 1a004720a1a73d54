"""Public transparency pages: what came of each closed or awarded challenge (/outcomes), and how well
each buyer keeps its promises (/performance: answering, deciding, signing and paying on time)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template

from marketplace.core.auth import PUBLIC, allow
from marketplace.experiments.pages import as_date
from marketplace.transparency import anchor, metrics, services
from marketplace.web.pages import page


@get("/results", opt=allow(PUBLIC), include_in_schema=False)
async def results_page(request: Request[Any, Any, Any]) -> Template:
    """The one public place for results: every finished experiment (failed ones too) and every closed or
    awarded challenge with its counts, decisions, awards and how fast the buyer answered, decided and paid."""
    from marketplace.experiments.pages import finished_experiments

    return page(request, "transparency/results.html", experiments=await finished_experiments(),
                outcomes=await services.outcomes(), as_date=as_date)


@get("/outcomes", opt=allow(PUBLIC), include_in_schema=False)
async def outcomes_page() -> Redirect:
    """The outcomes now live on /results (one public place); old links still work."""
    return Redirect(path="/results#challenges", status_code=301)


@get("/performance", opt=allow(PUBLIC), include_in_schema=False)
async def performance_page(request: Request[Any, Any, Any]) -> Template:
    """Per buyer and platform-wide: days to answer, decide, sign and pay, payments on time, take-up."""
    figures = await metrics.public_metrics()
    return page(request, "transparency/performance.html", m=figures,
                durations=metrics.DURATIONS)


@get("/open-data", opt=allow(PUBLIC), include_in_schema=False)
async def open_data_page(request: Request[Any, Any, Any]) -> Template:
    """What the OCDS open data holds, where to download it, and how it is checked."""
    from marketplace.settings import get_settings

    return page(request, "transparency/open_data.html", ocid_prefix=get_settings().ocds_ocid_prefix)


@get("/audit/checkpoints", opt=allow(PUBLIC), include_in_schema=False)
async def audit_checkpoints_page(request: Request[Any, Any, Any]) -> Template:
    """The published checkpoints of the audit trail, for anyone to keep."""
    return page(request, "transparency/checkpoints.html", checkpoints=await anchor.published(200))


ROUTES = [results_page, outcomes_page, performance_page, open_data_page, audit_checkpoints_page]
