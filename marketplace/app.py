"""The Litestar application factory: joins every domain's routes, middleware, templates and errors."""

from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path

from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from marketplace.core import db
from marketplace.core.auth import AuthenticationMiddleware, access
from marketplace.core.bounds import decode_json_body
from marketplace.core.errors import DomainError, FieldError, api_exception_handler, request_parsing_error
from marketplace.core.headers import HeadAsGetMiddleware, SecurityHeadersMiddleware
from marketplace.core.locale import LocaleMiddleware
from marketplace.core.logs import RequestLogMiddleware, configure_logging
from marketplace.core.openapi import describe_problems
from marketplace.core.templating import TEMPLATE_DIR, configure
from marketplace.procedures.engine import Text
from marketplace.settings import Settings, get_settings
from marketplace.web.apidocs import LocalRedocPlugin, redoc_assets_router

log = logging.getLogger("marketplace")
PACKAGE_DIR = Path(__file__).resolve().parent
MAX_BODY_BYTES = 1024 * 1024  # JSON bodies; upload routes raise their own limit


async def require_json_bodies(request: Request) -> None:
    """API bodies are JSON unless the route says otherwise (`opt["content_types"]`, e.g. uploads)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.url.path.startswith("/api/"):
        return
    if request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return
    accepted = request.route_handler.opt.get("content_types", ("application/json",))
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in accepted:
        raise DomainError(
            detail=f"Send the body as {' or '.join(accepted)}, not {media_type or 'no content type'}.",
            errors=[FieldError("content-type", f"must be {' or '.join(accepted)}")],
            status=415,
        )
    if media_type == "application/json":
        data = request.route_handler.parsed_fn_signature.parameters.get("data")
        decode_json_body(await request.body(), data.annotation if data is not None else None)


def discover_routes() -> list:
    """Every `marketplace/<domain>/routes.py` exports `ROUTES`."""
    routes: list = []
    for path in sorted(PACKAGE_DIR.glob("*/routes.py")):
        module = importlib.import_module(f"marketplace.{path.parent.name}.routes")
        routes.extend(module.ROUTES)
    return routes


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the marketplace. `marketplace serve` calls this; tests call it with their settings."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    from marketplace.procedures.engine import load_templates

    load_templates()  # a broken procedure template stops the start, naming the file, stage and field
    worker: dict[str, object] = {}

    async def on_startup() -> None:
        await db.open_pool()
        if settings.run_worker:
            from marketplace.worker import run_forever

            stop = asyncio.Event()
            worker["stop"] = stop
            worker["task"] = asyncio.create_task(run_forever(settings.worker_interval_seconds, stop))

    async def on_shutdown() -> None:
        if "task" in worker:
            worker["stop"].set()  # type: ignore[attr-defined]
            await worker["task"]  # type: ignore[misc]
        await db.close_pool()

    from marketplace.web.errors import page_exception_handler

    def exception_handler(request, exc):  # type: ignore[no-untyped-def]
        exc = request_parsing_error(exc)
        if request.url.path.startswith("/api/"):
            return api_exception_handler(request, exc)
        return page_exception_handler(request, exc)

    app = Litestar(
        route_handlers=[
            *discover_routes(),
            create_static_files_router(path="/static", directories=[PACKAGE_DIR / "web" / "static"], opt={"allow": "public"},
                                       include_in_schema=False),
            redoc_assets_router(),
        ],
        guards=[access],
        exception_handlers={Exception: exception_handler},
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="mp_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_samesite="lax",
            header_name="x-csrf-token",
            exclude=["/api/", "/sandbox/", "/static/", "/favicon.ico"],  # no form there: no cookie to write
        ),
        template_config=TemplateConfig(
            directory=TEMPLATE_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: configure(engine.engine),
        ),
        openapi_config=OpenAPIConfig(
            title="Innovation procurement marketplace API",
            version="1.0.0",
            description="Public bodies publish problems; companies answer in staged steps; milestones are paid on time.",
            path="/schema",
            render_plugins=[LocalRedocPlugin(path=["/", "/redoc"])],  # no CDN, no web fonts: works offline
        ),
        request_max_body_size=MAX_BODY_BYTES,
        type_encoders={Text: str},  # a procedure template's texts answer in the request's language
        before_request=require_json_bodies,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        logging_config=None,  # configure_logging above: JSON lines or text, LOG_LEVEL
        debug=False,
    )
    describe_problems(app)
    _skip_access_guard_on_public_routes(app)
    # Around everything Litestar answers, unknown paths and 405s included (route middleware is not):
    # so a 404 page knows who is signed in and speaks their language, and HEAD is answered wherever GET is.
    from marketplace.operations.metrics import RequestMetricsMiddleware
    from marketplace.web.errors import DatabaseUnavailableMiddleware

    app.asgi_handler = _outermost(app.asgi_handler, HeadAsGetMiddleware(), LocaleMiddleware(), AuthenticationMiddleware(),
                                  DatabaseUnavailableMiddleware(), SecurityHeadersMiddleware(), RequestLogMiddleware(),
                                  RequestMetricsMiddleware())
    return app


def create_served_app():  # type: ignore[no-untyped-def]
    """What `marketplace serve` runs: the app behind the reverse proxy's `X-Forwarded-For`/`-Proto`, trusted
    from FORWARDED_ALLOW_IPS (default 127.0.0.1), as uvicorn's `proxy_headers` did, for any ASGI server."""
    import os

    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return ProxyHeadersMiddleware(create_app(), trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1")


def _skip_access_guard_on_public_routes(app: Litestar) -> None:
    """`access` lets a public route through without looking at anything; but Litestar calls each guard with a
    copy of the route handler (`copy(handler)`, ~10 % of a request without database, profiled): public handlers
    resolve no `access` guard at all (other guards they may have stay). Locked in by tests/test_performance.py."""
    from marketplace.core.auth import PUBLIC

    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("allow") == PUBLIC:
                handler._resolved_guards = [g for g in handler.resolve_guards() if g is not access]


def _outermost(inner, *middlewares):  # type: ignore[no-untyped-def]
    """Wrap an ASGI app in `ASGIMiddleware`s for HTTP; the last one given ends up outermost."""
    for middleware in middlewares:
        def wrap(next_app, mw=middleware):  # type: ignore[no-untyped-def]
            async def handler(scope, receive, send):  # type: ignore[no-untyped-def]
                if scope["type"] != "http":
                    return await next_app(scope, receive, send)
                return await mw.handle(scope, receive, send, next_app)
            return handler
        inner = wrap(inner)
    return inner
