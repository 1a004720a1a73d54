"""`/readyz` and `/metrics`, for operators: asked from the host itself (loopback, the default), or with
`Authorization: Bearer <MARKETPLACE_METRICS_TOKEN>` from elsewhere (a Prometheus server, a load balancer)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from marketplace.core.auth import PUBLIC, allow
from marketplace.core.errors import FieldError, problem
from marketplace.operations import metrics, readiness
from marketplace.settings import get_settings

FOR_OPERATORS = ("This is for operators: ask from the server itself, or send `Authorization: Bearer <MARKETPLACE_METRICS_TOKEN>` "
                 "(set that variable to allow it).")


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def operator_may_ask(request: Request[Any, Any, Any]) -> bool:
    """The client is this host (after the reverse proxy's X-Forwarded-For), or it shows the operators' token."""
    if _loopback(request.client.host if request.client else None):
        return True
    token = get_settings().metrics_token
    sent = request.headers.get("authorization", "")
    return bool(token) and sent[:7].lower() == "bearer " and hmac.compare_digest(sent[7:].strip().encode(), token.encode())


def _refused() -> Response[Any]:
    return problem(403, FOR_OPERATORS)


REFUSED = ResponseSpec(None, description="Not asked from this host nor with the operators' token (problem+json)")


@get("/readyz", opt=allow(PUBLIC), tags=["operations"], media_type="application/json", responses={
    403: REFUSED, 503: ResponseSpec(None, description="Not ready: the failing checks are named in `errors` (problem+json)")})
async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
    """Readiness: the database answers, every migration is applied, a background worker reported recently.
    200 with each check, or 503 naming the failing ones. Operators only (see `/metrics`)."""
    if not operator_may_ask(request):
        return _refused()
    checks = await readiness.checks()
    report = {c.name: {"ok": c.ok, "message": c.message, **c.details} for c in checks}
    failing = [c for c in checks if not c.ok]
    if failing:
        response = problem(503, "Not ready: " + "; ".join(f"{c.name} {c.message}" for c in failing) + ".",
                           [FieldError(c.name, c.message) for c in failing])
        response.content["checks"] = report
        return response
    return Response({"status": "ready", "checks": report}, media_type="application/json")


@get("/metrics", opt=allow(PUBLIC), tags=["operations"], media_type=metrics.CONTENT_TYPE, responses={403: REFUSED})
async def prometheus_metrics(request: Request[Any, Any, Any]) -> Response[Any]:
    """Prometheus metrics (text exposition format): request latency by route template, responses by status,
    the e-mail outbox backlog and its oldest message's age, payouts by status, scheduler lag, worker heartbeat.
    From this host, or with `Authorization: Bearer <MARKETPLACE_METRICS_TOKEN>`."""
    if not operator_may_ask(request):
        return _refused()
    return Response(await metrics.scrape(), media_type=metrics.CONTENT_TYPE, headers={"Cache-Control": "no-store"})
