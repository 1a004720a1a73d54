"""The one way the marketplace talks to Stripe: the real `stripe` SDK, over HTTP, to Stripe's test or
live API when STRIPE_API_KEY is set, otherwise to the payments sandbox mounted at /sandbox/stripe."""

from __future__ import annotations

import hashlib
import hmac

import stripe

from marketplace.payments import http
from marketplace.settings import get_settings, is_public_address

_cached: tuple[tuple[object, ...], stripe.StripeClient] | None = None


def uses_sandbox() -> bool:
    return not get_settings().stripe_api_key


def _derived(purpose: str) -> str:
    """A secret of this installation only: derived from SECRET_KEY, never written in the source."""
    return hmac.new(get_settings().secret_key.encode(), f"payments-sandbox:{purpose}".encode(), hashlib.sha256).hexdigest()[:40]


def sandbox_api_key() -> str:
    """The key the app (and only the app) uses to call its sandbox."""
    return f"sk_test_sandbox_{_derived('api-key')}"


def webhook_secret() -> str | None:
    """STRIPE_WEBHOOK_SECRET; in the sandbox without one, this installation's derived secret.
    With a real Stripe key and no secret: None, and every event is refused."""
    settings = get_settings()
    if settings.stripe_webhook_secret:
        return settings.stripe_webhook_secret
    return f"whsec_{_derived('webhook-secret')}" if uses_sandbox() else None


def backend() -> str:
    """What `serve` says about payments (one line)."""
    if uses_sandbox():
        return f"Payments: the built-in Stripe sandbox at {api_base()} (no real money moves; set STRIPE_API_KEY for Stripe)."
    key = get_settings().stripe_api_key or ""
    return f"Payments: Stripe {'live' if key.startswith(('sk_live_', 'rk_live_')) else 'test'} mode at {api_base()}."


def refuse_public_sandbox() -> str | None:
    """Why `serve` must not start: the sandbox on a public BASE_URL without MARKETPLACE_ALLOW_PUBLIC_SANDBOX=1."""
    settings = get_settings()
    if uses_sandbox() and is_public_address(settings.base_url) and not settings.allow_public_sandbox:
        return (f"error: BASE_URL {settings.base_url} is public but STRIPE_API_KEY is unset, so payouts would go to the "
                "built-in sandbox: set STRIPE_API_KEY and STRIPE_WEBHOOK_SECRET, or MARKETPLACE_ALLOW_PUBLIC_SANDBOX=1 "
                "for a public demo.")
    return None


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
    key = (settings.stripe_api_key, settings.secret_key, api_base(), id(http.transport()))
    if _cached is None or _cached[0] != key:
        _cached = (key, stripe.StripeClient(
            settings.stripe_api_key or sandbox_api_key(),
            base_addresses={"api": api_base(), "connect": api_base()},
            http_client=_HTTPXClient(),
            max_network_retries=0,  # the payout job retries, with the same idempotency key
        ))
    return _cached[1]


def reset() -> None:
    global _cached
    _cached = None
