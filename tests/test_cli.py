"""The command line serves where it says: links point at the port it listens on."""

from marketplace.cli import serving_base_url


def test_serve_without_base_url_links_to_the_port_it_listens_on():
    assert serving_base_url("127.0.0.1", 8100) == "http://127.0.0.1:8100"
    assert serving_base_url("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert serving_base_url("::1", 8000) == "http://[::1]:8000"


async def test_serve_uses_granian_behind_the_proxys_forwarded_headers():
    """granian (chosen by measurement: benchmarks/README.md) does not read X-Forwarded-For itself: the served app
    does, from the trusted proxy only, so that rate limits and logs see the visitor, not nginx."""
    from marketplace.app import create_served_app
    from marketplace.cli import build_parser, served_app

    args = build_parser().parse_args(["serve"])
    assert args.server == "granian" and served_app(args.server) == "marketplace.app:create_served_app"
    assert served_app("uvicorn") == "marketplace.app:create_app"  # uvicorn's own proxy_headers
    app = create_served_app()
    seen = []

    async def inner(scope, receive, send):  # noqa: ARG001
        seen.append(scope["client"])

    app.app = inner
    for client in (("127.0.0.1", 5000), ("198.51.100.7", 5000)):
        scope = {"type": "http", "client": client, "headers": [(b"x-forwarded-for", b"203.0.113.9")], "scheme": "http"}
        await app(scope, None, None)
    assert [c[0] for c in seen] == ["203.0.113.9", "198.51.100.7"]
