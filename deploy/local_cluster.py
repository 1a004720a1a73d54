"""A marketplace cluster on this machine, and a whole journey through it (run by `deploy/local-cluster`).

It starts, on loopback and on free ports: a throwaway PostgreSQL database on the running server, two
`marketplace serve` instances with their own upload folders and MARKETPLACE_FILE_STORAGE=database, one
`marketplace worker`, and nginx balancing the two. Then, through nginx and the public API: a challenge is
published, a company proposes (its annex uploaded through instance 1 and downloaded through instance 2),
instance 1 is stopped, the stage closes and the buyer decides, instance 1 starts again, the proposal is
awarded, both parties sign the contract, the company delivers (its file downloaded through both instances),
the buyer accepts and the worker pays the milestone through the payments sandbox. Everything it started is
stopped and the database dropped, whatever happens (Ctrl-C included). Exit 0 when the journey passed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "marketplace-demo-2026"  # marketplace/demo.py
PDF = b"%PDF-1.7\n% local-cluster annex\n" + secrets.token_bytes(200_000) + b"\n%%EOF\n"
STAGE_SECONDS = 20  # the proposal stage closes this long after publication


def say(text: str) -> None:
    print(f"[local-cluster {time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, admin_url: str, keep: bool) -> None:
        self.admin_url = admin_url
        self.keep = keep
        self.tmp = Path(tempfile.mkdtemp(prefix="marketplace-cluster-"))
        self.db_name = f"marketplace_cluster_{os.getpid()}_{secrets.token_hex(3)}"
        self.db_url = re.sub(r"/[^/]*$", f"/{self.db_name}", admin_url)
        self.db_created = False
        self.ports = {"nginx": free_port(), "app1": free_port(), "app2": free_port()}
        self.processes: dict[str, subprocess.Popen] = {}
        self.base_url = f"http://127.0.0.1:{self.ports['nginx']}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.db_url, "SECRET_KEY": secrets.token_urlsafe(32), "BASE_URL": self.base_url,
            "MARKETPLACE_FILE_STORAGE": "database", "MARKETPLACE_RUN_WORKER": "0",
            "MARKETPLACE_MIN_STAGE_OPEN_DAYS": "0", "MARKETPLACE_STANDSTILL_DAYS": "0",
            "MARKETPLACE_WORKER_INTERVAL": "0.5", "LOG_FORMAT": "text", "LOG_LEVEL": "WARNING",
        }
        for name in ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_WEBHOOK_SECRET", "SMTP_URL", "MARKETPLACE_UPLOAD_DIR"):
            self.env.pop(name, None)  # the payments sandbox; mail kept in the outbox; each instance its own folder

    # --- the database -------------------------------------------------------------------------

    def _admin(self, sql: str) -> None:
        import asyncio

        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(self.admin_url)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run())

    def create_database(self) -> None:
        self._admin(f'CREATE DATABASE "{self.db_name}"')
        self.db_created = True
        say(f"database {self.db_name} created; migrating and loading the demo data")
        self.run(["demo"])  # migrates first

    def run(self, args: list[str]) -> None:
        log = (self.tmp / f"{args[0]}.log").open("w")
        done = subprocess.run([str(BIN / "marketplace"), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=self.tmp, timeout=300)
        if done.returncode != 0:
            raise SystemExit(f"marketplace {' '.join(args)} failed:\n{(self.tmp / f'{args[0]}.log').read_text()[-3000:]}")

    # --- processes ----------------------------------------------------------------------------

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.tmp / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(command, env=env or self.env, stdout=log, stderr=subprocess.STDOUT,
                                                cwd=self.tmp, start_new_session=True)

    def start_app(self, name: str, wait: bool = True) -> None:
        env = {**self.env, "MARKETPLACE_UPLOAD_DIR": str(self.tmp / name / "uploads")}
        self.start(name, [str(BIN / "marketplace"), "serve", "--host", "127.0.0.1", "--port", str(self.ports[name])], env)
        if wait:
            self.wait_healthy(name)

    def wait_healthy(self, name: str, seconds: float = 60) -> None:
        url = f"http://127.0.0.1:{self.ports[name]}/healthz"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            process = self.processes[name]
            if process.poll() is not None:
                raise SystemExit(f"{name} exited ({process.returncode}):\n{self.log_tail(name)}")
            with suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    say(f"{name} answers on {url}")
                    return
            time.sleep(0.2)
        raise SystemExit(f"{name} did not answer {url} within {seconds:.0f} s:\n{self.log_tail(name)}")

    def stop(self, *names: str) -> None:
        """SIGTERM to the process group each leads (the server and its workers), SIGKILL after 15 s."""
        stopping = [p for p in (self.processes.pop(n, None) for n in names) if p is not None and p.poll() is None]
        for process in stopping:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in stopping:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def log_tail(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def start_nginx(self) -> None:
        from marketplace.settings import UPLOAD_BODY_LIMIT_MB

        prefix = self.tmp / "nginx"
        prefix.mkdir()
        upstreams = "\n".join(f"        server 127.0.0.1:{self.ports[a]} max_fails=1 fail_timeout=2s;" for a in ("app1", "app2"))
        (prefix / "nginx.conf").write_text(f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream marketplace {{
{upstreams}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{self.ports['nginx']};
        client_max_body_size {UPLOAD_BODY_LIMIT_MB}m;
        location / {{
            proxy_pass http://marketplace;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.start("nginx", [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.processes["nginx"].poll() is not None:
                raise SystemExit(f"nginx exited:\n{self.log_tail('nginx')}\n{(prefix / 'error.log').read_text()}")
            with suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    say(f"nginx balances both instances on {self.base_url}")
                    return
            time.sleep(0.2)
        raise SystemExit("nginx did not answer")

    def close(self) -> None:
        began = time.monotonic()
        self.stop(*(n for n in self.processes if n != "nginx"))  # nginx last: the worker's sandbox calls go through it
        self.stop("nginx")
        say(f"stopped the instances, the worker and nginx in {time.monotonic() - began:.1f} s")
        if self.db_created:
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - say it, and go on cleaning up
                say(f"could not drop the database {self.db_name}: {exc}")
        if self.keep:
            say(f"logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        say("everything it started is stopped")


# --- the journey ------------------------------------------------------------------------------

def ok(response: httpx.Response, *statuses: int) -> dict:
    if response.status_code not in (statuses or (200, 201)):
        raise AssertionError(f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text[:500]}")
    return response.json() if response.headers.get("content-type", "").startswith("application/json") else {}


def poll(what: str, check, seconds: float = 60, every: float = 0.5):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def journey(cluster: Cluster) -> None:
    api = httpx.Client(base_url=cluster.base_url, timeout=60)
    app1 = httpx.Client(base_url=f"http://127.0.0.1:{cluster.ports['app1']}", timeout=60)
    app2 = httpx.Client(base_url=f"http://127.0.0.1:{cluster.ports['app2']}", timeout=60)

    def token(email: str) -> dict[str, str]:
        body = ok(api.post("/api/v1/auth/tokens", json={"email": email, "password": DEMO_PASSWORD}), 201)
        return {"authorization": f"Bearer {body['token']}"}

    civil, officer, company = token("sofie.peeters@112.demo"), token("marc.dubois@112.demo"), token("lena.claes@triagevoice.demo")
    upstreams = {api.get("/healthz").headers.get("x-upstream") for _ in range(6)}
    assert len(upstreams) == 2, f"nginx should spread requests over both instances, saw {upstreams}"

    # Publish: a one-stage open call whose deadline is a few seconds away.
    closes_at = datetime.now(UTC) + timedelta(seconds=STAGE_SECONDS)
    draft = ok(api.post("/api/v1/challenges", headers=civil, json={
        "title": "Local cluster: faster triage of 112 calls", "summary": "Callers wait too long when the centres are saturated.",
        "problem": "During peaks, operators cannot tell urgent calls from the rest quickly enough.",
        "affected_users": "Callers in distress and 112 operators.", "tried_before": "Extra staff during storms.",
        "desired_outcomes": "Urgent calls recognised within 30 seconds.", "constraints": "Personal data stays in the EU.",
        "topics": ["public safety"], "cpv_codes": ["72212000-4"], "budget_cap": {"amount": 2_000_000, "currency": "EUR"},
        "max_duration_days": 90, "procedure": {"template": "open-call"},
        "schedule": [{"stage": "proposal", "closes_at": closes_at.isoformat()}]}), 201)
    challenge = draft["id"]
    assert ok(api.post(f"/api/v1/challenges/{challenge}/publish", headers=officer))["status"] == "published"
    say(f"published challenge {challenge}; its stage closes at {closes_at:%H:%M:%S} UTC")

    # Propose, with an annex uploaded through instance 1 and read through instance 2.
    proposal = ok(api.post(f"/api/v1/challenges/{challenge}/proposals", headers=company), 201)["id"]
    price = {"amount": 500_000, "currency": "EUR"}
    ok(api.put(f"/api/v1/proposals/{proposal}/stages/proposal", headers=company, json={"answers": {
        "idea": "Transcribe and triage calls in real time.", "team": "Two paramedics and a speech scientist.",
        "motivation": "We answered 112 calls for ten years.", "price": price,
        "milestones": [{"title": "Pilot in one centre", "amount": price, "deliverable": "A pilot report"}]}}))
    document_url = f"/api/v1/proposals/{proposal}/stages/proposal/documents/annex"
    ok(app1.post(document_url, headers=company, files={"file": ("annex.pdf", PDF, "application/pdf")}), 201)
    fetched = app2.get(document_url, headers=company)
    assert fetched.status_code == 200 and fetched.content == PDF, f"annex through instance 2: {fetched.status_code}"
    say("the annex uploaded through instance 1 downloads through instance 2, byte for byte")
    ok(api.post(f"/api/v1/proposals/{proposal}/stages/proposal/submit", headers=company))

    cluster.stop("app1")
    say("instance 1 stopped: the journey goes on through nginx")
    for _ in range(4):
        assert api.get("/healthz").headers.get("x-upstream", "").endswith(f":{cluster.ports['app2']}")

    # Decide, once the worker has closed the stage at its deadline.
    poll("the stage to close", lambda: next(s for s in ok(api.get(f"/api/v1/challenges/{challenge}"))["stages"]
                                            if s["key"] == "proposal")["status"] == "evaluation",
         seconds=STAGE_SECONDS + 60)
    ok(api.post(f"/api/v1/proposals/{proposal}/decisions", headers=civil, json={
        "stage": "proposal", "outcome": "advance", "feedback": "A clear, testable plan."}), 201)
    ok(api.post(f"/api/v1/challenges/{challenge}/stages/proposal/close", headers=civil))
    say("the stage closed and the proposal was selected")

    cluster.start_app("app1")
    say("instance 1 started again")

    # Award; the worker issues the contract at once (standstill 0 days); both parties sign.
    award = ok(api.post(f"/api/v1/challenges/{challenge}/awards", headers=officer, json={
        "proposal_id": proposal, "amount": price, "milestones": [{
            "title": "Pilot in one centre", "amount": price, "due_date": (date.today() + timedelta(days=30)).isoformat(),
            "deliverable": "A pilot report"}]}), 201)
    contract_id = award["contract_id"]
    contract = poll("the contract to be issued", lambda: (c := ok(api.get(f"/api/v1/contracts/{contract_id}", headers=officer)))
                    ["status"] == "issued" and c)
    sha = contract["document_sha256"]
    for client in (app1, app2):  # the contract's PDF, rendered by the worker, is the same through each instance
        pdf = client.get(f"/api/v1/contracts/{contract_id}/document", headers=company)
        assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == sha
    signing = {"document_sha256": sha, "confirm": True}
    ok(api.post(f"/api/v1/contracts/{contract_id}/signatures", headers=officer, json={"party": "buyer", **signing}), 201)
    signed = ok(api.post(f"/api/v1/contracts/{contract_id}/signatures", headers=company, json=signing), 201)
    assert signed["status"] == "active", signed
    say(f"awarded, contract {contract_id} signed by both parties")

    # Deliver through instance 2; both instances serve the file; the buyer accepts; the worker pays.
    experiment_id = poll("the experiment", lambda: ok(api.get(f"/api/v1/contracts/{contract_id}", headers=company)).get("experiment_id"))
    milestone = ok(api.get(f"/api/v1/experiments/{experiment_id}", headers=company))["milestones"][0]["id"]
    delivered = ok(app2.post(f"/api/v1/milestones/{milestone}/deliverables", headers=company, data={"report": "The pilot ran."},
                             files=[("files", ("pilot-report.pdf", PDF, "application/pdf"))]), 201)
    file_url = delivered["deliverables"][-1]["files"][0]["url"]
    for client in (app1, app2):
        got = client.get(file_url, headers=civil)
        assert got.status_code == 200 and got.content == PDF, f"deliverable through {client.base_url}: {got.status_code}"
    say("the deliverable uploaded through instance 2 downloads through both instances")
    ok(api.post(f"/api/v1/milestones/{milestone}/review", headers=civil, json={"decision": "accept", "feedback": "Good pilot."}))
    payout = poll("the payout to be paid", lambda: next((p for p in ok(api.get(f"/api/v1/payouts?contract_id={contract_id}",
                                                                                 headers=company))["items"]
                                                         if p["status"] == "paid"), None), seconds=90)
    say(f"accepted and paid: {payout['amount']['amount'] / 100:.2f} {payout['amount']['currency']} "
        f"(transfer {payout['stripe_transfer_id']})")


def main() -> int:
    parser = argparse.ArgumentParser(description="A local marketplace cluster and a whole journey through it.")
    parser.add_argument("--postgres", default=os.environ.get("MARKETPLACE_CLUSTER_POSTGRES_URL",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server where a throwaway database may be created (default: %(default)s)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temporary folder with every log")
    args = parser.parse_args()
    started = time.monotonic()
    cluster = Cluster(args.postgres, args.keep_logs)

    def stop_on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped by {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGHUP, stop_on_signal)
    failed = True
    try:
        cluster.create_database()
        cluster.start_app("app1", wait=False)  # migrations are already applied: the instances start without racing for them
        cluster.start_app("app2", wait=False)
        cluster.start("worker", [str(BIN / "marketplace"), "worker"])
        cluster.wait_healthy("app1")
        cluster.wait_healthy("app2")
        cluster.start_nginx()
        journey(cluster)
        failed = False
    except AssertionError as exc:
        say(f"FAILED: {exc}")
        for name in ("app1", "app2", "worker"):
            print(f"--- {name} log (end) ---\n{cluster.log_tail(name)}", file=sys.stderr)
    finally:
        cluster.close()
    say(f"{'FAILED' if failed else 'passed'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
