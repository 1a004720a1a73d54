"""Outgoing HTTP for payments (Stripe SDK calls, sandbox webhook deliveries).

Production uses the network. Tests point it at the app itself with `use_transport(httpx.ASGITransport(app))`,
so the SDK still speaks real HTTP requests and responses, without a socket.
"""

from __future__ import annotations

import httpx

TIMEOUT_SECONDS = 20.0
_transport: httpx.AsyncBaseTransport | None = None


def use_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Send every payments request through `transport` (None: the network again)."""
    global _transport
    _transport = transport
    from marketplace.payments import gateway

    gateway.reset()


def transport() -> httpx.AsyncBaseTransport | None:
    return _transport


def async_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=_transport, timeout=TIMEOUT_SECONDS)
