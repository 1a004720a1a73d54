"""Logging: one JSON object per line (LOG_FORMAT=json, the default) or readable text (LOG_FORMAT=text),
at LOG_LEVEL; and one line per HTTP request with method, path, status, duration and request id.

The request id comes from a sane incoming `X-Request-ID` header (set by the reverse proxy) or is
generated; it is sent back in the response's `X-Request-ID` and added to every log line written
while the request is handled.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
client_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_address", default=None)  # for the audit trail
access_log = logging.getLogger("marketplace.request")

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_SECRET_PATHS = re.compile(r"^(/(?:api/v1/)?invitations/)[^/]+")


class JsonFormatter(logging.Formatter):
    """`{"ts": ..., "level": ..., "logger": ..., "message": ..., "request_id": ..., <extra fields>}`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            out["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = request_id.get()
        return f"{text} [{rid}]" if rid and record.name != access_log.name else text


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> logging.Handler:
    """Send every log record to stderr in `fmt`; replaces the handler a previous call installed."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_marketplace", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler._marketplace = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by our request line
    return handler


_process = {"prefix": uuid.uuid4().hex[:12], "sequence": itertools.count(1)}


def _new_process() -> None:
    _process.update(prefix=uuid.uuid4().hex[:12], sequence=itertools.count(1))


os.register_at_fork(after_in_child=_new_process)


def new_request_id() -> str:
    """Unique per process and request: a random prefix drawn once per process (again in a forked child) and a
    counter; a uuid4 per request read the system's random source every time."""
    return f"{_process['prefix']}{next(_process['sequence']):08x}"


def loggable_path(path: str) -> str:
    """The path with secrets (invitation tokens) masked."""
    return _SECRET_PATHS.sub(r"\1***", path)


class RequestLogMiddleware(ASGIMiddleware):
    """One log line per request; the request id in the context and the `X-Request-ID` header."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = dict(scope.get("headers", []))
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SANE_ID.match(incoming) else new_request_id()
        token = request_id.set(rid)
        client = scope.get("client")
        address = client_address.set(client[0] if client else None)
        status = 0  # no response started (yet)
        error: BaseException | None = None
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        except asyncio.CancelledError:
            status = status or 499  # the client went away before the answer (nginx's convention)
            raise
        except BaseException as exc:
            error = exc
            status = status or 500
            raise
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            level = logging.ERROR if status >= 500 else logging.INFO
            if access_log.isEnabledFor(level):
                method, path = scope.get("method", ""), loggable_path(scope.get("path", ""))
                # The record made directly: `Logger.log` walks the call stack for a file and line no formatter prints.
                access_log.handle(access_log.makeRecord(
                    access_log.name, level, "(unknown file)", 0, "%s %s %s %.1fms", (method, path, status, duration_ms),
                    (type(error), error, error.__traceback__) if error is not None else None,
                    extra={"method": method, "path": path, "status": status, "duration_ms": duration_ms,
                           "client": client[0] if client else None},
                ))
            request_id.reset(token)
            client_address.reset(address)
