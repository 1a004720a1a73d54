"""Structured logs: one JSON line per request with method, path, status, duration and request id."""

import io
import json

import pytest

from marketplace.core.logs import configure_logging
from marketplace.settings import Settings


@pytest.fixture
def log_lines(settings):
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    configure_logging(settings.log_level, settings.log_format)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "marketplace.request"]


async def test_every_request_is_one_json_line_with_its_request_id(client, log_lines):
    response = await client.get("/healthz")
    assert response.status_code == 200
    rid = response.headers["x-request-id"]
    [line] = request_lines(log_lines())
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert line["request_id"] == rid
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "info" and line["ts"].endswith("Z")


async def test_the_proxys_request_id_is_kept_and_a_bogus_one_replaced(client, log_lines):
    kept = await client.get("/", headers={"X-Request-ID": "edge-42.abc"})
    assert kept.headers["x-request-id"] == "edge-42.abc"
    replaced = await client.get("/", headers={"X-Request-ID": "no spaces\nor newlines"})
    assert replaced.headers["x-request-id"] != "no spaces\nor newlines"
    assert [line["request_id"] for line in request_lines(log_lines())] == ["edge-42.abc", replaced.headers["x-request-id"]]


async def test_client_errors_are_logged_with_their_status_and_tokens_are_masked(client, log_lines):
    await client.post("/api/v1/invitations/secret-token-value/accept", json={"name": "X", "password": "a long enough passphrase"})
    await client.get("/api/v1/me")
    lines = request_lines(log_lines())
    assert [(line["method"], line["path"], line["status"]) for line in lines] == [
        ("POST", "/api/v1/invitations/***/accept", 404), ("GET", "/api/v1/me", 401)]
    assert "secret-token-value" not in json.dumps([line for line in log_lines() if line["logger"] != "httpx"])  # the test client logs it


def test_log_settings_are_checked():
    base = {"SECRET_KEY": "x"}
    assert Settings.from_env(base).log_format == "json"
    assert Settings.from_env({**base, "LOG_FORMAT": "TEXT", "LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(SystemExit, match="LOG_FORMAT"):
        Settings.from_env({**base, "LOG_FORMAT": "xml"})


def test_text_format_is_readable():
    import logging

    stream = io.StringIO()
    configure_logging("INFO", "text", stream=stream)
    try:
        logging.getLogger("marketplace.test").info("hello %s", "world")
    finally:
        configure_logging("INFO", "json")
    assert "INFO marketplace.test hello world" in stream.getvalue()


async def test_unknown_paths_and_wrong_methods_are_logged_too(client, log_lines):
    await client.get("/nowhere")
    await client.delete("/signin")
    assert [(line["path"], line["status"]) for line in request_lines(log_lines())] == [("/nowhere", 404), ("/signin", 405)]
