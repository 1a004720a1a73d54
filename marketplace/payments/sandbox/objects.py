"""The sandbox's Stripe objects and rules: accounts, account links, transfers, payouts, balance,
top-ups and events, with Stripe's shapes and error messages. Every function runs inside the
request's transaction (see api.py), so a failed request changes nothing."""

from __future__ import annotations

import json
import secrets
import string
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from stripe._api_version import _ApiVersion

from marketplace.core.clock import now
from marketplace.payments.sandbox.tables import (
    SandboxAccountLink,
    SandboxBalance,
    SandboxEvent,
    SandboxObject,
)
from marketplace.settings import get_settings

API_VERSION = _ApiVersion.CURRENT
LINK_LIFETIME = timedelta(minutes=5)  # Stripe's Account Links expire after a few minutes
_ALPHABET = string.ascii_letters + string.digits


class StripeError(Exception):
    """An error answered like Stripe's `{"error": {...}}`. `saved` errors are kept for idempotent replay
    (Stripe saves a result once the endpoint has started; parameter validation errors are not saved)."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, saved: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        self.body: dict[str, Any] = {"error": {"type": type, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(24))}"


def timestamp() -> int:
    return int(now().timestamp())


# --- parameters -------------------------------------------------------------------------------

def check_params(params: dict[str, Any], allowed: set[str], required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    for name in params:
        if name not in allowed and name != "expand":
            raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
    for name in sorted(required):
        if params.get(name) in (None, ""):
            raise StripeError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)


def amount_param(params: dict[str, Any], name: str = "amount") -> int:
    raw = params.get(name)
    try:
        value = int(str(raw))
    except ValueError:
        raise StripeError(400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name) from None
    if value < 1:
        raise StripeError(400, "This value must be greater than or equal to 1.", code="parameter_invalid_integer", param=name)
    return value


def currency_param(params: dict[str, Any]) -> str:
    value = str(params.get("currency", "")).lower()
    if len(value) != 3 or not value.isalpha():
        raise StripeError(400, f"Invalid currency: {value}.", code="parameter_invalid_string", param="currency")
    return value


def metadata_param(params: dict[str, Any]) -> dict[str, str]:
    value = params.get("metadata") or {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", code="parameter_invalid_object", param="metadata")
    return {str(k): str(v) for k, v in value.items()}


def on_base_url(url: str) -> bool:
    """Whether `url` is an address of this marketplace (BASE_URL's scheme, host and path): the only
    places an account link may send a company back to (no open redirect, no `javascript:`)."""
    if not url or any(ord(c) < 33 or c == "\\" for c in url):
        return False
    base = urlsplit(get_settings().base_url)
    try:
        target = urlsplit(url)
    except ValueError:
        return False
    prefix = base.path.rstrip("/") + "/"
    return ((target.scheme.lower(), target.netloc.lower()) == (base.scheme.lower(), base.netloc.lower())
            and (target.path + "/").startswith(prefix))


def url_param(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not on_base_url(value):
        raise StripeError(400, f"Invalid URL: {name} must be an address of this marketplace "
                               f"({get_settings().base_url}/...)", code="url_invalid", param=name)
    return value


# --- storage ----------------------------------------------------------------------------------

async def save(obj: dict[str, Any]) -> dict[str, Any]:
    await SandboxObject.insert(SandboxObject(stripe_id=obj["id"], kind=obj["object"], data=json.dumps(obj)))
    return obj


async def update(obj: dict[str, Any]) -> dict[str, Any]:
    await SandboxObject.update({SandboxObject.data: json.dumps(obj)}).where(SandboxObject.stripe_id == obj["id"])
    return obj


async def load(kind: str, stripe_id: str, param: str = "id") -> dict[str, Any]:
    row = await SandboxObject.select(SandboxObject.data).where(
        (SandboxObject.stripe_id == stripe_id) & (SandboxObject.kind == kind)
    ).first()
    if row is None:
        raise StripeError(404, f"No such {kind}: '{stripe_id}'", code="resource_missing", param=param)
    return json.loads(row["data"])


async def listing(kind: str, url: str, params: dict[str, Any], match: dict[str, str] | None = None) -> dict[str, Any]:
    limit = max(1, min(int(params.get("limit") or 10), 100))
    rows = await SandboxObject.select(SandboxObject.data).where(SandboxObject.kind == kind).order_by(
        SandboxObject.created_at, ascending=False
    )
    items = [json.loads(r["data"]) for r in rows]
    items = [i for i in items if all(i.get(k) == v for k, v in (match or {}).items())]
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}


async def emit(event_type: str, obj: dict[str, Any], request: dict[str, Any], previous: dict[str, Any] | None = None) -> None:
    """Record an event; the delivery job sends it, signed, to the marketplace's webhook endpoint."""
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    event = {
        "id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": timestamp(), "data": data,
        "livemode": False, "pending_webhooks": 1, "request": request, "type": event_type,
    }
    await SandboxEvent.insert(SandboxEvent(stripe_id=event["id"], type=event_type, data=json.dumps(event)))


# --- balance ----------------------------------------------------------------------------------

async def balance() -> dict[str, Any]:
    rows = await SandboxBalance.select().order_by(SandboxBalance.currency)
    amounts = {r["currency"]: r["available"] for r in rows} or {"eur": 0}
    return {
        "object": "balance",
        "available": [{"amount": a, "currency": c, "source_types": {"card": a}} for c, a in amounts.items()],
        "pending": [{"amount": 0, "currency": c, "source_types": {"card": 0}} for c in amounts],
        "livemode": False,
    }


async def credit(currency: str, amount: int) -> None:
    if not await SandboxBalance.exists().where(SandboxBalance.currency == currency):
        await SandboxBalance.insert(SandboxBalance(currency=currency, available=0))
    await SandboxBalance.update({SandboxBalance.available: SandboxBalance.available + amount}).where(
        SandboxBalance.currency == currency
    )


async def debit(currency: str, amount: int) -> None:
    """Draw `amount` down, or refuse as Stripe does when the available balance is short."""
    taken = await SandboxBalance.update({SandboxBalance.available: SandboxBalance.available - amount}).where(
        (SandboxBalance.currency == currency) & (SandboxBalance.available >= amount)
    ).returning(SandboxBalance.id)
    if not taken:
        raise StripeError(
            400,
            "You have insufficient available funds in your Stripe account. Try adding funds directly to your "
            "available balance by creating a top-up.",
            code="balance_insufficient", saved=True,
        )


# --- accounts and onboarding --------------------------------------------------------------------

async def create_account(params: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    check_params(params, {"type", "country", "email", "capabilities", "business_type", "metadata", "business_profile",
                          "controller", "default_currency"})
    account_type = params.get("type") or "express"
    if account_type not in ("express", "custom", "standard"):
        raise StripeError(400, "Invalid type: must be one of custom, express, or standard", param="type")
    requested = params.get("capabilities") or {}
    account = {
        "id": new_id("acct"), "object": "account", "type": account_type, "country": (params.get("country") or "BE").upper(),
        "email": params.get("email"), "business_type": params.get("business_type"),
        "business_profile": params.get("business_profile") or {},
        "capabilities": {name: "inactive" for name in requested} or {"transfers": "inactive"},
        "charges_enabled": False, "payouts_enabled": False, "details_submitted": False,
        "default_currency": params.get("default_currency") or "eur", "metadata": metadata_param(params),
        "requirements": {"currently_due": ["business_profile.url", "external_account", "tos_acceptance.date"],
                         "eventually_due": [], "past_due": [], "disabled_reason": "requirements.past_due"},
        "created": timestamp(), "livemode": False,
    }
    return await save(account)


async def update_account(account_id: str, params: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    check_params(params, {"metadata", "email", "business_profile"})
    account = await load("account", account_id, "account")
    previous = {k: account[k] for k in params if k in account}
    if "metadata" in params:
        account["metadata"] = {**account["metadata"], **metadata_param(params)}
    for key in ("email", "business_profile"):
        if key in params:
            account[key] = params[key]
    await update(account)
    await emit("account.updated", account, request, previous)
    return account


async def create_account_link(params: dict[str, Any], request: dict[str, Any], public_base: str) -> dict[str, Any]:
    check_params(params, {"account", "type", "refresh_url", "return_url", "collect", "collection_options"},
                 {"account", "type"})
    if params["type"] not in ("account_onboarding", "account_update"):
        raise StripeError(400, "Invalid type: must be one of account_onboarding or account_update", param="type")
    return_url, refresh_url = url_param(params, "return_url"), url_param(params, "refresh_url")
    await load("account", str(params["account"]), "account")
    created = now()
    token = secrets.token_urlsafe(24)
    await SandboxAccountLink.insert(SandboxAccountLink(
        token=token, account=params["account"], return_url=return_url, refresh_url=refresh_url,
        expires_at=created + LINK_LIFETIME,
    ))
    return {"object": "account_link", "created": int(created.timestamp()),
            "expires_at": int((created + LINK_LIFETIME).timestamp()), "url": f"{public_base}/connect/onboarding/{token}"}


async def complete_onboarding(account_id: str) -> dict[str, Any]:
    """What a finished onboarding form does: transfers and payouts become possible; `account.updated` is sent."""
    account = await load("account", account_id, "account")
    previous = {"charges_enabled": account["charges_enabled"], "payouts_enabled": account["payouts_enabled"],
                "details_submitted": account["details_submitted"], "capabilities": dict(account["capabilities"])}
    account.update(charges_enabled=True, payouts_enabled=True, details_submitted=True,
                   capabilities={name: "active" for name in account["capabilities"]})
    account["requirements"] = {"currently_due": [], "eventually_due": [], "past_due": [], "disabled_reason": None}
    await update(account)
    await emit("account.updated", account, {"id": None, "idempotency_key": None}, previous)
    return account


# --- money movements --------------------------------------------------------------------------

async def create_transfer(params: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    check_params(params, {"amount", "currency", "destination", "transfer_group", "description", "metadata",
                          "source_transaction", "source_type"}, {"amount", "currency", "destination"})
    amount, currency = amount_param(params), currency_param(params)
    destination = await load("account", str(params["destination"]), "destination")
    if destination["capabilities"].get("transfers") != "active":
        raise StripeError(
            400, "Your destination account needs to have at least one of the following capabilities enabled: "
                 "transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer", param="destination", saved=True,
        )
    await debit(currency, amount)
    transfer = {
        "id": new_id("tr"), "object": "transfer", "amount": amount, "amount_reversed": 0,
        "balance_transaction": new_id("txn"), "created": timestamp(), "currency": currency,
        "description": params.get("description"), "destination": destination["id"],
        "destination_payment": new_id("py"), "livemode": False, "metadata": metadata_param(params),
        "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": ""},
        "reversed": False, "source_transaction": None, "source_type": "card",
        "transfer_group": params.get("transfer_group"),
    }
    await save(transfer)
    await emit("transfer.created", transfer, request)
    return transfer


async def create_reversal(transfer_id: str, params: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Reverse all (or `amount` of) a transfer: the money returns to the platform's balance; `transfer.reversed` is sent."""
    check_params(params, {"amount", "description", "metadata", "refund_application_fee"})
    transfer = await load("transfer", transfer_id, "id")
    left = transfer["amount"] - transfer["amount_reversed"]
    amount = amount_param(params) if params.get("amount") not in (None, "") else left
    if left <= 0 or amount > left:
        raise StripeError(400, f"Transfer {transfer_id} has already been reversed." if left <= 0 else
                          f"You cannot reverse more than the {left} left on this transfer.", code="transfer_already_reversed"
                          if left <= 0 else "parameter_invalid_integer", param="amount")
    await credit(transfer["currency"], amount)
    reversal = {"id": new_id("trr"), "object": "transfer_reversal", "amount": amount, "balance_transaction": new_id("txn"),
                "created": timestamp(), "currency": transfer["currency"], "metadata": metadata_param(params),
                "transfer": transfer_id}
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
    transfer["reversals"]["data"].insert(0, reversal)
    transfer["reversals"]["total_count"] += 1
    await update(transfer)
    await emit("transfer.reversed", transfer, request)
    return reversal


async def create_payout(params: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    check_params(params, {"amount", "currency", "description", "metadata", "method", "statement_descriptor"},
                 {"amount", "currency"})
    amount, currency = amount_param(params), currency_param(params)
    await debit(currency, amount)
    payout = {
        "id": new_id("po"), "object": "payout", "amount": amount, "arrival_date": timestamp(), "automatic": False,
        "balance_transaction": new_id("txn"), "created": timestamp(), "currency": currency,
        "description": params.get("description"), "destination": new_id("ba"), "livemode": False,
        "metadata": metadata_param(params), "method": params.get("method") or "standard", "source_type": "card",
        "statement_descriptor": params.get("statement_descriptor"), "status": "paid", "type": "bank_account",
    }
    await save(payout)
    await emit("payout.created", payout, request)
    await emit("payout.paid", payout, request)
    return payout


async def create_topup(params: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    check_params(params, {"amount", "currency", "description", "metadata", "statement_descriptor", "source",
                          "transfer_group"}, {"amount", "currency"})
    amount, currency = amount_param(params), currency_param(params)
    await credit(currency, amount)
    topup = {
        "id": new_id("tu"), "object": "topup", "amount": amount, "balance_transaction": new_id("txn"),
        "created": timestamp(), "currency": currency, "description": params.get("description"),
        "expected_availability_date": timestamp(), "failure_code": None, "failure_message": None, "livemode": False,
        "metadata": metadata_param(params), "source": None, "statement_descriptor": params.get("statement_descriptor"),
        "status": "succeeded", "transfer_group": params.get("transfer_group"),
    }
    await save(topup)
    await emit("topup.created", topup, request)
    await emit("topup.succeeded", topup, request)
    await emit("balance.available", await balance(), request)
    return topup


async def list_events(params: dict[str, Any], url: str) -> dict[str, Any]:
    limit = max(1, min(int(params.get("limit") or 10), 100))
    query = SandboxEvent.select(SandboxEvent.data).order_by(SandboxEvent.created_at, ascending=False).order_by(
        SandboxEvent.id, ascending=False)
    if params.get("type"):
        query = query.where(SandboxEvent.type == params["type"])
    events = [json.loads(r["data"]) for r in await query]
    events.sort(key=lambda e: e["created"], reverse=True)
    return {"object": "list", "data": events[:limit], "has_more": len(events) > limit, "url": url}


async def get_event(event_id: str) -> dict[str, Any]:
    row = await SandboxEvent.select(SandboxEvent.data).where(SandboxEvent.stripe_id == event_id).first()
    if row is None:
        raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing", param="id")
    return json.loads(row["data"])
