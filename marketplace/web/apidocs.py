"""The API documentation at `/schema`, whole without the internet: Redoc's script is served by the app from the
`drf-spectacular-sidecar` package (Redoc's standalone build, installed from the package registry with the app;
its Django dependency is never imported), and the page asks for no web fonts (the system's fonts read well)."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import RedocRenderPlugin
from litestar.static_files import create_static_files_router

ASSETS_PATH = "/static/redoc"
REDOC_DIR = Path(str(files("drf_spectacular_sidecar"))) / "static" / "drf_spectacular_sidecar" / "redoc" / "bundles"
SYSTEM_FONTS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif'
MONOSPACE = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace'
ONLY_THIS_APP = ("default-src 'self'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; "
                 "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'")
"""The page's own Content-Security-Policy: the browser fetches nothing from another host (Redoc's sidebar shows
its maker's logo from a CDN: not asked for, and Redoc leaves the image out when it does not load)."""
OPTIONS = {"theme": {"typography": {"fontFamily": SYSTEM_FONTS, "headings": {"fontFamily": SYSTEM_FONTS},
                                    "code": {"fontFamily": MONOSPACE}}}}


class LocalRedocPlugin(RedocRenderPlugin):
    """Litestar's Redoc page, with the script from this app, system fonts and the app's own icon."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(js_url=f"{ASSETS_PATH}/redoc.standalone.js", google_fonts=False,
                         favicon=f'<meta http-equiv="Content-Security-Policy" content="{ONLY_THIS_APP}">'
                                 "<link rel='icon' href='/favicon.ico'>", **kwargs)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        # Litestar's page passes no options to Redoc (its theme then names Montserrat and Roboto web fonts)
        page = super().render(request, openapi_schema)
        return page.replace(b",undefined,document.getElementById('redoc-container'))",
                            b"," + json.dumps(OPTIONS).encode() + b",document.getElementById('redoc-container'))", 1)


def redoc_assets_router():  # type: ignore[no-untyped-def]
    """Redoc's script (and its source map) under /static/redoc/, cached for a day (it changes with the package)."""
    return create_static_files_router(path=ASSETS_PATH, directories=[REDOC_DIR], opt={"allow": "public"},
                                      include_in_schema=False, name="redoc-assets",
                                      cache_control=CacheControlHeader(max_age=86400, public=True))
