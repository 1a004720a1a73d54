"""The one way the marketplace talks to Stripe: the real `stripe` SDK, over HTTP, to Stripe's test or
live API when STRIPE_API_KEY is set, otherwise to the payments sandbox mounted at /sandbox/stripe."""

from __future__ import annotations

import stripe

from marketplace.payments import http
from marketplace.settings import get_settings

SANDBOX_API_KEY = "sk_test_marketplace_sandbox"
_cached: tuple[tuple[object, ...], stripe.StripeClient] | None = None


def uses_sandbox() -> bool:
    return not get_settings().stripe_api_key


def api_base() -> str:
    """STRIPE_API_BASE when set; Stripe's API with a key; the sandbox inside the app without one."""
    settings = get_settings()
    if settings.stripe_api_base:
        return settings.stripe_api_base.rstrip("/")
    if settings.stripe_api_key:
        return stripe.DEFAULT_API_BASE
    return f"{settings.base_url}/sandbox/stripe"


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's own httpx client, sent through the payments transport (the network, or the app in tests)."""

    def __init__(self) -> None:
        super().__init__(timeout=http.TIMEOUT_SECONDS)
        if http.transport() is not None:
            self._client_async = self.httpx.AsyncClient(transport=http.transport())


def client() -> stripe.StripeClient:
    """The Stripe client for the current settings (async calls: `client().v1.transfers.create_async(...)`)."""
    global _cached
    settings = get_settings()
    key = (settings.stripe_api_key, api_base(), id(http.transport()))
    if _cached is None or _cached[0] != key:
        _cached = (key, stripe.StripeClient(
            settings.stripe_api_key or SANDBOX_API_KEY,
            base_addresses={"api": api_base(), "connect": api_base()},
            http_client=_HTTPXClient(),
            max_network_retries=0,  # the payout job retries, with the same idempotency key
        ))
    return _cached[1]


def reset() -> None:
    global _cached
    _cached = None
