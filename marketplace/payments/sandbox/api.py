"""The sandbox's HTTP face: `/sandbox/stripe/v1/...` answers like Stripe's API (form-encoded requests,
JSON objects, `{"error": {...}}` errors, idempotency-key replay), and `/sandbox/stripe/connect/onboarding/`
is the onboarding page an Account Link points to."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post, route
from litestar.response import Redirect, Template

from marketplace.core.auth import PUBLIC, allow
from marketplace.core.clock import as_utc, now
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import NotFound
from marketplace.payments import gateway
from marketplace.payments.sandbox import objects
from marketplace.payments.sandbox.encoding import decode_form
from marketplace.payments.sandbox.objects import StripeError, new_id
from marketplace.payments.sandbox.tables import SandboxAccountLink, SandboxIdempotencyKey
from marketplace.settings import get_settings

PREFIX = "/sandbox/stripe"
Handler = Callable[..., Awaitable[dict[str, Any]]]


class Call:
    """One API request: its parameters, the caller's key and what events should say about it."""

    def __init__(self, request: Request[Any, Any, Any], params: dict[str, Any], request_id: str) -> None:
        self.params = params
        self.url = request.url.path.removeprefix(PREFIX)
        self.public_base = f"{str(request.base_url).rstrip('/')}{PREFIX}"
        self.event_request = {"id": request_id, "idempotency_key": request.headers.get("idempotency-key")}


def _post_routes() -> list[tuple[re.Pattern[str], Handler]]:
    return [
        (re.compile(r"/v1/accounts"), lambda c: objects.create_account(c.params, c.event_request)),
        (re.compile(r"/v1/accounts/(acct_\w+)"), lambda c, i: objects.update_account(i, c.params, c.event_request)),
        (re.compile(r"/v1/account_links"), lambda c: objects.create_account_link(c.params, c.event_request, c.public_base)),
        (re.compile(r"/v1/transfers"), lambda c: objects.create_transfer(c.params, c.event_request)),
        (re.compile(r"/v1/transfers/(tr_\w+)/reversals"), lambda c, i: objects.create_reversal(i, c.params, c.event_request)),
        (re.compile(r"/v1/payouts"), lambda c: objects.create_payout(c.params, c.event_request)),
        (re.compile(r"/v1/topups"), lambda c: objects.create_topup(c.params, c.event_request)),
    ]


def _get_routes() -> list[tuple[re.Pattern[str], Handler]]:
    return [
        (re.compile(r"/v1/accounts/(acct_\w+)"), lambda c, i: objects.load("account", i)),
        (re.compile(r"/v1/transfers"), lambda c: objects.listing(
            "transfer", c.url, c.params, {"transfer_group": c.params["transfer_group"]} if c.params.get("transfer_group") else None)),
        (re.compile(r"/v1/transfers/(tr_\w+)"), lambda c, i: objects.load("transfer", i)),
        (re.compile(r"/v1/payouts/(po_\w+)"), lambda c, i: objects.load("payout", i)),
        (re.compile(r"/v1/topups/(tu_\w+)"), lambda c, i: objects.load("topup", i)),
        (re.compile(r"/v1/balance"), lambda c: objects.balance()),
        (re.compile(r"/v1/events"), lambda c: objects.list_events(c.params, c.url)),
        (re.compile(r"/v1/events/(evt_\w+)"), lambda c, i: objects.get_event(i)),
    ]


POST_ROUTES = _post_routes()
GET_ROUTES = _get_routes()


def _stripe_response(status: int, body: dict[str, Any], request_id: str, extra: dict[str, str] | None = None) -> Response[bytes]:
    headers = {"Request-Id": request_id, "Stripe-Version": objects.API_VERSION, **(extra or {})}
    return Response(json.dumps(body).encode(), status_code=status, media_type="application/json", headers=headers)


def _authorised(request: Request[Any, Any, Any]) -> str | None:
    """The sandbox answers the app itself (this installation's sandbox key, derived from SECRET_KEY) and
    lets signed-in platform admins read it (GET only: a session cookie must never move money)."""
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if key and hmac.compare_digest(key.encode(), gateway.sandbox_api_key().encode()):
        return key
    principal = request.scope.get("user")
    if request.method == "GET" and principal is not None and principal.is_platform_admin:
        return f"admin:{principal.user_id}"
    return None


def _sandbox_off() -> bool:
    """With a real STRIPE_API_KEY the sandbox is not served at all."""
    return bool(get_settings().stripe_api_key)


def _match(routes: list[tuple[re.Pattern[str], Handler]], path: str) -> tuple[Handler, tuple[str, ...]] | None:
    for pattern, handler in routes:
        found = pattern.fullmatch(path)
        if found:
            return handler, found.groups()
    return None


@route(f"{PREFIX}/v1/{{rest:path}}", http_method=["GET", "POST", "DELETE"], opt=allow(PUBLIC), include_in_schema=False)
async def stripe_api(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Every sandbox API call: authenticate, route, run in one transaction, answer like Stripe."""
    if _sandbox_off():
        raise NotFound("page")
    request_id = new_id("req")
    api_key = _authorised(request)
    if api_key is None:
        return _stripe_response(401, StripeError(401, "Invalid API Key provided: use the marketplace's sandbox key").body, request_id)
    path = request.url.path.removeprefix(PREFIX)
    if request.method == "POST":
        params = decode_form(await request.body())
    else:
        params = decode_form(request.url.query or "")
    found = _match(POST_ROUTES if request.method == "POST" else GET_ROUTES, path)
    if found is None:
        error = StripeError(404, f"Unrecognized request URL ({request.method}: {path}).")
        return _stripe_response(404, error.body, request_id)
    handler, ids = found
    call = Call(request, params, request_id)
    if request.method != "POST":
        try:
            return _stripe_response(200, await handler(call, *ids), request_id)
        except StripeError as exc:
            return _stripe_response(exc.status, exc.body, request_id)
    return await _idempotent_post(request, api_key, path, call, handler, ids, request_id)


async def _idempotent_post(request: Request[Any, Any, Any], api_key: str, path: str, call: Call, handler: Handler,
                           ids: tuple[str, ...], request_id: str) -> Response[bytes]:
    """Same key and same request: the first answer again. Same key, other request: Stripe's idempotency error."""
    client_key = request.headers.get("idempotency-key")
    if client_key is not None and len(client_key) > 255:
        error = StripeError(400, "Idempotency-Key must be at most 255 characters long.", param="Idempotency-Key")
        return _stripe_response(400, error.body, request_id)
    scoped = f"{hashlib.sha256(api_key.encode()).hexdigest()[:32]}:{client_key}" if client_key else None
    fingerprint = hashlib.sha256(json.dumps([path, call.params], sort_keys=True).encode()).hexdigest()
    echo = {"Idempotency-Key": client_key} if client_key else {}
    for _ in range(3):
        try:
            async with transaction():
                if scoped:
                    stored = await SandboxIdempotencyKey.select().where(SandboxIdempotencyKey.key == scoped).first()
                    if stored is not None:
                        if stored["fingerprint"] != fingerprint:
                            raise StripeError(
                                400, "Keys for idempotent requests can only be used with the same parameters they were "
                                     f"first used with. Try using a key other than '{client_key}' if you meant to execute "
                                     "a different request.", type="idempotency_error")
                        return _stripe_response(stored["status_code"], json.loads(stored["body"]), request_id,
                                                {**echo, "Idempotent-Replayed": "true"})
                try:
                    status, body = 200, await handler(call, *ids)
                except StripeError as exc:
                    if not exc.saved:
                        raise
                    status, body = exc.status, exc.body
                if status != 200:
                    raise _SavedError(status, body)  # rolls back whatever the handler began
                if scoped:
                    await SandboxIdempotencyKey.insert(SandboxIdempotencyKey(
                        key=scoped, fingerprint=fingerprint, status_code=status, body=json.dumps(body)))
            return _stripe_response(status, body, request_id, echo)
        except _SavedError as saved:
            # The error is the answer, yet the idempotency key must stay recorded: store it on its own.
            return await _store_error(scoped, fingerprint, saved, request_id, echo)
        except StripeError as exc:
            return _stripe_response(exc.status, exc.body, request_id, echo)
        except Exception as exc:
            if not is_integrity_error(exc):
                raise
            # Another request with the same key committed first: loop to replay its answer.
    error = StripeError(409, "There is currently another in-progress request using this Idempotent Key. Please try again later.",
                        type="idempotency_error")
    return _stripe_response(409, error.body, request_id, echo)


class _SavedError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body


async def _store_error(scoped: str | None, fingerprint: str, saved: _SavedError, request_id: str,
                       echo: dict[str, str]) -> Response[bytes]:
    if scoped:
        try:
            async with transaction():
                await SandboxIdempotencyKey.insert(SandboxIdempotencyKey(
                    key=scoped, fingerprint=fingerprint, status_code=saved.status, body=json.dumps(saved.body)))
        except Exception as exc:
            if not is_integrity_error(exc):
                raise
    return _stripe_response(saved.status, saved.body, request_id, echo)


# --- the onboarding page that an Account Link points to ----------------------------------------

async def _link(token: str) -> dict[str, Any] | None:
    return await SandboxAccountLink.select().where(SandboxAccountLink.token == token).first()


def _usable(link: dict[str, Any] | None) -> bool:
    return link is not None and link["used_at"] is None and as_utc(link["expires_at"]) > now()


@get(f"{PREFIX}/connect/onboarding/{{token:str}}", opt=allow(PUBLIC), include_in_schema=False)
async def onboarding_page(token: str) -> Template:
    """The sandbox's stand-in for Stripe's hosted onboarding: one button completes it."""
    if _sandbox_off():
        raise NotFound("page")
    link = await _link(token)
    account = await objects.load("account", link["account"]) if link else None
    refresh = link["refresh_url"] if link and objects.on_base_url(link["refresh_url"]) else None
    return Template("payments/sandbox_onboarding.html", context={
        "usable": _usable(link), "account": account, "refresh_url": refresh, "action": f"{PREFIX}/connect/onboarding/{token}",
    }, status_code=200 if _usable(link) else 410)


@post(f"{PREFIX}/connect/onboarding/{{token:str}}", opt=allow(PUBLIC), include_in_schema=False)
async def onboarding_submit(token: str) -> Response[Any]:
    """Complete onboarding: the account can receive transfers and `account.updated` is sent."""
    if _sandbox_off():
        raise NotFound("page")
    async with transaction():
        link = await _link(token)
        if not _usable(link):
            return Redirect(path=f"{PREFIX}/connect/onboarding/{token}", status_code=303)
        assert link is not None
        await SandboxAccountLink.update({SandboxAccountLink.used_at: now()}).where(SandboxAccountLink.id == link["id"])
        await objects.complete_onboarding(link["account"])
    back = link["return_url"] if objects.on_base_url(link["return_url"]) else f"{PREFIX}/connect/onboarding/{token}"
    return Redirect(path=back, status_code=303)


ROUTES = [stripe_api, onboarding_page, onboarding_submit]
