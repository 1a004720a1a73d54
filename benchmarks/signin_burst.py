"""Does a burst of sign-ins stall other requests? Target (issue #10): /healthz p99 under 200 ms while
30 sign-ins arrive at once, with argon2's production parameters.

    .venv/bin/python benchmarks/signin_burst.py [--users 30] [--rounds 3]

Builds a fresh SQLite database (migrated with the real migrations), creates `users` accounts with a
production-strength argon2id hash, then signs them all in at once through the app (in-process ASGI,
each from its own address) while probing /healthz every 5 ms. Prints p50, p99 and max per round.
The test `tests/test_accounts_signin_attacks.py::test_a_burst_of_30_sign_ins_does_not_stall_other_requests`
runs the same measurement. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "a burst of sign-ins, measured"


async def measure_sign_in_burst(app, client, emails: list[str], password: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Sign `emails` in all at once (each from its own address) while probing /healthz through `client`."""
    import httpx

    probes: list[float] = []
    done = asyncio.Event()

    async def sign_in(i: int, email: str) -> int:
        transport = httpx.ASGITransport(app=app, client=(f"10.1.{i // 250}.{i % 250}", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return (await c.post("/api/v1/auth/tokens", json={"email": email, "password": password})).status_code

    async def probe_health() -> None:
        while not done.is_set():
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            probes.append(time.perf_counter() - started)
            await asyncio.sleep(0.005)

    async def burst() -> list[int]:
        try:
            return await asyncio.gather(*(sign_in(i, e) for i, e in enumerate(emails)))
        finally:
            done.set()

    started = time.perf_counter()
    codes, _ = await asyncio.gather(burst(), probe_health())
    assert codes == [201] * len(emails), codes
    probes.sort()
    return {"seconds": round(time.perf_counter() - started, 2), "probes": len(probes),
            "p50_ms": round(probes[len(probes) // 2] * 1000, 1),
            "p99_ms": round(probes[min(len(probes) - 1, int(len(probes) * 0.99))] * 1000, 1),
            "max_ms": round(probes[-1] * 1000, 1)}


async def main(users: int, rounds: int) -> None:
    import httpx

    from marketplace.accounts.tables import User
    from marketplace.app import create_app
    from marketplace.core import db
    from marketplace.core.security import hash_password
    from marketplace.settings import get_settings

    await db.open_pool()
    await db.migrate()
    app = create_app(get_settings())
    password_hash = await hash_password(PASSWORD)
    emails = [f"burst{i}@example.be" for i in range(users)]
    for email in emails:
        await User.insert(User(email=email, name="Burst", password_hash=password_hash, email_verified_at=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        for n in range(rounds):
            result = await measure_sign_in_burst(app, client, emails, PASSWORD)
            print(f"round {n + 1}: {users} concurrent sign-ins, /healthz {result}, load avg {os.getloadavg()[0]:.1f}")
            await asyncio.sleep(61)  # let the per-IP counters of the round pass
    await db.close_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='signin-burst-')}/bench.sqlite3"
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ["MARKETPLACE_RUN_WORKER"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    asyncio.run(main(args.users, args.rounds))
