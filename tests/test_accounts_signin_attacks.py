"""Sign-in under attack: a burst of sign-ins, concurrent guessing, lockout as a weapon, weak passwords."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest
import time_machine
from argon2 import PasswordHasher

from benchmarks.signin_burst import measure_sign_in_burst
from marketplace.accounts.tables import LoginAttempt, User
from marketplace.core import security
from marketplace.core.clock import now
from marketplace.core.security import password_problems
from tests.factories import PASSWORD, csrf_token, mailed_link, make_user


def _client(app, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 50000)), base_url="http://testserver")


async def _token_attempt(app, ip: str, email: str, password: str) -> int:
    async with _client(app, ip) as c:
        return (await c.post("/api/v1/auth/tokens", json={"email": email, "password": password})).status_code


@pytest.fixture
def production_hashing(monkeypatch):
    """argon2 with its production parameters (64 MiB, 3 passes) for this test only."""
    monkeypatch.setattr(security, "_hasher", lambda: PasswordHasher())


async def test_a_burst_of_30_sign_ins_does_not_stall_other_requests(app, client, production_hashing):
    real_hash = await security.hash_password(PASSWORD)
    users = [await make_user("company_member") for _ in range(30)]
    await User.update({User.password_hash: real_hash}).where(User.id.is_in([u.id for u in users]))
    result = await measure_sign_in_burst(app, client, [u.email for u in users], PASSWORD)
    print(f"\n/healthz during 30 concurrent sign-ins: {result}")
    # Hashing on the event loop held /healthz for seconds (8.5 s in the report, 3.7 s here). The target is
    # 200 ms; a machine already saturated by other work (load above its cores) gets some slack.
    saturated = os.getloadavg()[0] > (os.cpu_count() or 1)
    assert result["p99_ms"] < (1000 if saturated else 200)


async def test_30_concurrent_wrong_passwords_for_one_account_check_at_most_5(app):
    user = await make_user("company_member")
    from_one_ip = await asyncio.gather(*(_token_attempt(app, "10.2.0.1", user.email, f"guess number {i} !!") for i in range(30)))
    assert from_one_ip.count(401) <= 5 and set(from_one_ip) <= {401, 429}
    other = await make_user("company_member")
    from_many_ips = await asyncio.gather(*(_token_attempt(app, f"10.3.0.{i}", other.email, f"guess number {i} !!") for i in range(30)))
    assert from_many_ips.count(401) <= 5 and set(from_many_ips) <= {401, 429}
    checked = await LoginAttempt.count().where((LoginAttempt.email == other.email) & (LoginAttempt.throttled == False))  # noqa: E712
    assert checked <= 5


async def test_40_concurrent_wrong_passwords_from_one_ip_over_many_accounts_check_at_most_20(app):
    codes = await asyncio.gather(*(_token_attempt(app, "10.4.0.1", f"nobody{i}@example.be", "a wrong password !!") for i in range(40)))
    assert codes.count(401) <= 20 and codes.count(429) >= 20


async def test_an_attacker_cannot_lock_the_owner_out_of_her_known_browser(app, client):
    officer = await make_user("procurement_officer", email="marc@112.be")
    token = await csrf_token(client, "/signin")
    assert (await client.post("/signin", data={"email": officer.email, "password": PASSWORD, "_csrf_token": token})).status_code == 303
    assert "mp_device" in client.cookies
    await client.post("/signout", data={"_csrf_token": await csrf_token(client, "/account")})

    attack = [await _token_attempt(app, f"10.5.0.{i}", officer.email, "wrong password, again") for i in range(20)]
    assert attack == [401] * 5 + [429] * 15  # guessing from many addresses: unknown browsers pause after 5
    async with _client(app, "10.6.0.1") as stranger:  # the right password from an unknown browser waits too
        assert (await stranger.post("/api/v1/auth/tokens", json={"email": officer.email, "password": PASSWORD})).status_code == 429

    token = await csrf_token(client, "/signin")
    back_in = await client.post("/signin", data={"email": officer.email, "password": PASSWORD, "_csrf_token": token})
    assert back_in.status_code == 303


async def test_a_throttled_owner_on_a_new_browser_gets_in_with_a_mailed_link(app, client):
    owner = await make_user("company_member")
    for i in range(6):
        await _token_attempt(app, f"10.7.0.{i}", owner.email, "wrong password, again")
    token = await csrf_token(client, "/signin")
    paused = await client.post("/signin", data={"email": owner.email, "password": PASSWORD, "_csrf_token": token})
    assert paused.status_code == 429

    asked = await client.post("/signin/link", data={"email": owner.email, "_csrf_token": token})
    unknown = await client.post("/signin/link", data={"email": "nobody@example.be", "_csrf_token": token})
    assert asked.status_code == unknown.status_code == 200
    assert asked.text.replace(owner.email, "X") == unknown.text.replace("nobody@example.be", "X")  # nothing to enumerate
    link = await mailed_link(owner.email, "sign_in_link")
    assert (await client.get(f"/links/{link}")).status_code == 200  # opening it (a mail scanner) signs nobody in
    signed_in = await client.post(f"/links/{link}", data={"_csrf_token": token})
    assert signed_in.status_code == 303 and "mp_session" in client.cookies
    assert (await client.get("/account")).status_code == 200
    again = await client.post(f"/links/{link}", data={"_csrf_token": token})
    assert again.status_code == 409  # once
    with time_machine.travel(now() + timedelta(minutes=16)):
        await client.post("/signin/link", data={"email": owner.email, "_csrf_token": token})
        late = await mailed_link(owner.email, "sign_in_link")
    with time_machine.travel(now() + timedelta(minutes=32)):
        assert (await client.post(f"/links/{late}", data={"_csrf_token": token})).status_code == 409  # 15 minutes


async def test_guessing_through_an_invitation_goes_through_the_same_throttle(app, client):
    from tests.factories import make_org, token_for

    member = await make_user("company_member")
    admin = await make_user(admin=True)
    body = await make_org("public_body")
    invited = await client.post(f"/api/v1/organisations/{body.id}/invitations", headers=await token_for(admin),
                                json={"email": member.email, "role": "evaluator"})
    token = invited.json()["token"]
    codes = [(await client.post(f"/api/v1/invitations/{token}/accept", json={"name": "X", "password": f"guess {i} guess guess"})).status_code
             for i in range(8)]
    assert codes[:3] == [422] * 3 and 429 in codes


@pytest.mark.parametrize("password", ["Password1!", "Summer2026!", "marketplace", "password12345678", "Iloveyou12345678",
                                      "marketplace2026!!", "lena.claes 2026!", "aaaaaaaaaaaaaaaaaaaa"])
def test_weak_common_and_breached_passwords_are_refused(password):
    assert password_problems(password, "lena.claes@triagevoice.be", "Lena Claes") is not None


@pytest.mark.parametrize("password", ["correct horse battery", "emergency calls matter", "marketplace-demo-2026 is mine"])
def test_long_uncommon_passwords_are_accepted_without_composition_rules(password):
    assert password_problems(password, "lena.claes@triagevoice.be", "Lena Claes") is None


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} | env
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=120)


def test_fast_password_hashing_is_for_the_test_suite_only():
    weak = _python("import asyncio; from marketplace.core.security import hash_password; print(asyncio.run(hash_password('x' * 20)))",
                   MARKETPLACE_FAST_PASSWORD_HASH="1")
    assert weak.returncode == 0, weak.stderr
    assert "m=65536" in weak.stdout  # argon2's production memory cost, whatever the variable says
    serve = _python("from marketplace.settings import Settings; Settings.from_env()", MARKETPLACE_FAST_PASSWORD_HASH="1")
    assert serve.returncode != 0 and "MARKETPLACE_FAST_PASSWORD_HASH" in serve.stderr and "test suite only" in serve.stderr
