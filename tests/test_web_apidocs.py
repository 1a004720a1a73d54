"""The API documentation at /schema works on an intranet or an offline laptop: the page names only this
app's own assets (Redoc's script served from the installed package), no CDN and no web fonts."""

from __future__ import annotations

import re

from marketplace.web.apidocs import REDOC_DIR


async def test_the_documentation_page_references_only_assets_of_this_app(client):
    page = await client.get("/schema")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    head = page.text.split("<body>", 1)[0]
    references = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", head)
    assert sorted(references) == ["/favicon.ico", "/static/redoc/redoc.standalone.js"]
    assert "googleapis" not in page.text and "cdn." not in page.text
    assert '"fontFamily": "system-ui' in page.text
    [policy] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', head)
    assert "default-src 'self'" in policy and "img-src 'self' data:" in policy  # the browser asks no other host  # Redoc's theme would otherwise ask for Montserrat and Roboto
    assert (await client.get("/schema/redoc")).text == page.text


async def test_the_redoc_script_is_served_from_the_installed_package(client):
    script = await client.get("/static/redoc/redoc.standalone.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.content == (REDOC_DIR / "redoc.standalone.js").read_bytes()
    assert b"Redoc" in script.content[:2000] or b"redoc" in script.content[-2000:]
    head = await client.head("/static/redoc/redoc.standalone.js")
    assert head.status_code == 200 and head.content == b""
    assert (await client.get("/static/redoc/../../secret_key")).status_code == 404
