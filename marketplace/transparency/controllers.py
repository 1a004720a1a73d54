"""Transparency API: public outcomes, OCDS 1.1 open data, and the audit trail (platform admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get

from marketplace.core.auth import PUBLIC, allow
from marketplace.core.bounds import parse_moment
from marketplace.core.errors import invalid
from marketplace.core.paging import check_limit, decode_cursor, encode_cursor, page_list
from marketplace.transparency import anchor, audit, metrics, ocds, services
from marketplace.transparency.tables import AuditEvent


def parse_since(value: str | None) -> datetime | None:
    """`?since=`: an ISO 8601 date or date-time (UTC when no zone is given), within the years the data can hold."""
    if not value:
        return None
    if len(value) == 10:  # a date alone
        value += "T00:00:00"
    return parse_moment("since", value, require_zone=False)


class OutcomesController(Controller):
    path = "/api/v1"
    tags = ["transparency"]

    @get("/outcomes", opt=allow(PUBLIC))
    async def outcomes(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """Closed and awarded challenges: aggregate counts, decisions per stage, awards and contracts,
        experiment results, and median days to answer questions, decide stages and pay milestones."""
        items, next_cursor = page_list(await services.outcomes(), limit, cursor)
        return {"items": items, "next_cursor": next_cursor}

    @get("/metrics", opt=allow(PUBLIC))
    async def public_metrics(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """How well buyers keep their promises, platform-wide (`platform`) and per buyer (`items`, paged by
        `?limit=`/`?cursor=`): median and worst days to answer a question, decide a stage after its deadline,
        sign a contract after the award and pay a milestone after its acceptance; payouts within 30 days;
        late-payment interest owed; proposals per challenge; SME and first-time bidder shares; follow-on share."""
        figures = await metrics.public_metrics()
        items, next_cursor = page_list(figures["buyers"], limit, cursor)
        return {"generated_at": figures["generated_at"], "platform": figures["platform"], "items": items,
                "next_cursor": next_cursor}

    @get("/metrics.csv", opt=allow(PUBLIC), media_type="text/csv")
    async def public_metrics_csv(self) -> Response[str]:
        """The same figures as CSV: one line for the platform, then one per buyer."""
        body = metrics.metrics_csv(await metrics.public_metrics())
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="marketplace-metrics.csv"'})

    @get("/opendata/ocds/releases", opt=allow(PUBLIC))
    async def ocds_releases(self, since: str | None = None) -> Response[Any]:
        """An OCDS 1.1 release package of every public contracting process: each stage as a release (tender,
        amendments, tender end, awards, contracts, payments as implementation transactions, termination).
        `?since=` an ISO date-time keeps the releases dated at or after it; with none, 204 No Content
        (an OCDS package holds at least one release)."""
        package = await ocds.release_package(parse_since(since))
        if package is None:
            return Response(None, status_code=204)
        return Response(package, media_type="application/json")

    @get("/opendata/ocds/records/{ocid:str}", opt=allow(PUBLIC))
    async def ocds_record(self, ocid: str) -> dict[str, Any]:
        """The OCDS 1.1 record package of one contracting process: its releases and compiled release."""
        return await ocds.record_package(ocid)

    @get("/audit", opt=allow("platform_admin"))
    async def audit_trail(self, subject: str | None = None, after: int = 0, limit: int = 100) -> dict[str, Any]:
        """The audit trail in chain order (`?subject=type:id`, `?after=` a sequence number, `?limit=` up to 500),
        each event with its previous hash and its own SHA-256 hash."""
        if subject is not None and ":" not in subject:
            raise invalid("subject", "must be type:id, for example payout:3f2c...")
        if not 1 <= limit <= 500:
            raise invalid("limit", "must be between 1 and 500")
        await audit.chain_pending()
        query = AuditEvent.select().where(AuditEvent.seq > after)
        if subject:
            query = query.where(AuditEvent.subject == subject)
        rows = await query.order_by(AuditEvent.seq).limit(limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"items": [audit.event_out(r) for r in rows], "next_after": rows[-1]["seq"] if more else None}

    @get("/audit/checkpoints", opt=allow(PUBLIC))
    async def audit_checkpoints(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """Checkpoints of the audit chain's head (sequence number, hash, time, HMAC under the audit key), newest
        first. Keep copies: `marketplace audit verify --checkpoints FILE` holds the chain against them, so a
        shortened or rewritten trail is found."""
        after = decode_cursor(cursor, 1)
        items = await anchor.published(check_limit(limit) + 1, after[0] if after else None)
        more = len(items) > limit
        items = items[:limit]
        return {"items": items, "next_cursor": encode_cursor(items[-1]["seq"]) if more else None}
