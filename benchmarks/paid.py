"""Acceptance to paid: `accepts` milestones accepted at `per_minute` through the API of the running app, paid by
a separate `marketplace worker` through the payments sandbox; latency = payout.paid_at - payout.accepted_at.

Run by bench.py in its own process, with DATABASE_URL and BASE_URL naming the app under test.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from datetime import timedelta

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _member(org_id: uuid.UUID, role: str) -> tuple[uuid.UUID, str]:
    from marketplace.accounts.tables import ApiToken, Membership, User
    from marketplace.core.security import hash_token

    user = User(email=f"{role}-{uuid.uuid4().hex[:10]}@bench.example", name=f"Bench {role}", password_hash="!")
    await user.save()
    await Membership.insert(Membership(user=user.id, organisation=org_id, role=role))
    token = secrets.token_urlsafe(24)
    await ApiToken.insert(ApiToken(user=user.id, token_hash=hash_token(token)))
    return user.id, token


async def run(base_url: str, accepts: int, per_minute: int) -> dict:
    import httpx

    from marketplace.accounts.tables import Organisation
    from marketplace.core import db
    from marketplace.core.clock import now
    from marketplace.experiments.services import create_experiment
    from marketplace.payments import gateway
    from marketplace.payments.tables import Payout

    await db.open_pool()
    buyer = Organisation(kind="public_body", name="Bench buyer", budget_ceiling_cents=10**12)
    company = Organisation(kind="company", name=f"Bench payee {uuid.uuid4().hex[:6]}")
    await Organisation.insert(buyer, company)
    _, officer = await _member(buyer.id, "procurement_officer")
    _, founder = await _member(company.id, "company_member")
    as_buyer, as_company = {"authorization": f"Bearer {officer}"}, {"authorization": f"Bearer {founder}"}
    milestones = []
    for i in range(accepts):
        experiment = await create_experiment(
            buyer_id=buyer.id, company_id=company.id, title=f"Bench experiment {i}", hypothesis="h", success_measures="m",
            milestones=[{"title": "Only milestone", "amount_cents": 100_000, "currency": "EUR",
                         "due_date": (now() + timedelta(days=30)).date(), "expected_deliverable": "A report"}])
        milestones.append(experiment)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        started = (await client.post(f"/api/v1/organisations/{company.id}/payment-account", headers=as_company)).json()
        await client.post(httpx.URL(started["onboarding_url"]).path)  # the worker delivers account.updated
        await gateway.client().v1.topups.create_async({"amount": 100_000 * accepts * 2, "currency": "eur", "description": "bench"})
        ids = []
        for experiment in milestones:
            body = (await client.get(f"/api/v1/experiments/{experiment}", headers=as_company)).json()
            milestone = body["milestones"][0]["id"]
            response = await client.post(f"/api/v1/milestones/{milestone}/deliverables", headers=as_company,
                                         data={"report": "Done."}, files=[("files", ("report.pdf", PDF, "application/pdf"))])
            assert response.status_code == 201, response.text
            ids.append(milestone)
        for _ in range(60):  # onboarding confirmed by its webhook before the clock starts
            state = (await client.get(f"/api/v1/organisations/{company.id}/payment-account", headers=as_company)).json()
            if state.get("payouts_enabled"):
                break
            await asyncio.sleep(0.5)

        failures: list[str] = []

        async def accept(milestone: str, delay: float) -> None:
            await asyncio.sleep(delay)
            response = await client.post(f"/api/v1/milestones/{milestone}/review", headers=as_buyer, json={"decision": "accept"})
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(accept(m, i * 60 / per_minute) for i, m in enumerate(ids)))
        accepted_in = time.perf_counter() - t0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        rows = await Payout.select(Payout.status, Payout.accepted_at, Payout.paid_at).where(Payout.company == company.id)
        if len(rows) >= accepts and all(r["status"] == "paid" for r in rows):
            break
        await asyncio.sleep(0.5)
    await db.close_pool()
    lat = sorted((r["paid_at"] - r["accepted_at"]).total_seconds() for r in rows if r["paid_at"])

    def pick(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

    return {"accepts": accepts, "accepted_in_s": round(accepted_in, 1), "paid": len(lat), "p50_s": pick(0.5), "p95_s": pick(0.95),
            "max_s": lat[-1] if lat else float("nan"), "failures": failures[:3], "statuses": sorted({r["status"] for r in rows})}


if __name__ == "__main__":
    import sys

    print(json.dumps(asyncio.run(run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))))
