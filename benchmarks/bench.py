"""`make bench`: the marketplace against its framework's floor, at size, on PostgreSQL.

    .venv/bin/python benchmarks/bench.py [--duration 10] [--pairs 3] [--only api_first_page,rush]

1. Builds (once; reused afterwards) the database `marketplace_bench`: 100,000 challenges, 1,000,000 proposal stage
   versions (benchmarks/data.py, COPY), and `marketplace_bench_small` with 1,000 challenges for search growth.
2. Starts the app (`marketplace.app:create_app`) and the floor (benchmarks/floor.py: a bare Litestar handler reading
   one challenge by primary key with Piccolo) with the same server, workers and pool, on loopback.
3. Drives each scenario with wrk, floor then app, back to back, `--pairs` times, and prints requests per second,
   p50 and p99 of both and the median of the per-pair ratios app/floor.
4. The deadline rush: 1,000 companies save their answers and submit (PUT then POST), 50 at a time; then counts
   in the database that every submission is there exactly once (0 lost, 0 duplicated).
5. Acceptance to paid: 300 delivered milestones accepted at 300 per minute through the API, paid by a separate
   `marketplace worker` through the payments sandbox (benchmarks/paid.py); paid_at - accepted_at from the database.
6. Search p95 growth: the catalogue's search timed in process on 1,000 and on 100,000 challenges.

The machine is shared: read the ratios (app and floor measured back to back), not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
PY = sys.executable
APP_PORT, FLOOR_PORT = 8701, 8702
RUSH_CONCURRENCY = 50


def database_url(admin_url: str, name: str) -> str:
    return re.sub(r"/[^/]*$", f"/{name}", admin_url)


async def ensure_database(admin_url: str, name: str, challenges: int, versions: int, regenerate: bool) -> dict:
    """The benchmark database `name` at this size: reused when it is there, else created, migrated and filled."""
    import asyncpg
    from data import meta_key, populate

    url = database_url(admin_url, name)
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and not regenerate:
            conn = await asyncpg.connect(url)
            try:
                info = await conn.fetchval("SELECT info FROM bench_meta WHERE key = $1", meta_key(challenges, versions))
            except asyncpg.UndefinedTableError:
                info = None
            finally:
                await conn.close()
            if info:
                migrate(url)  # the code may have new migrations since the data was built
                return json.loads(info)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    print(f"building {name}: {challenges:,} challenges, {versions:,} proposal stage versions ...", flush=True)
    migrate(url)
    info = await populate(url, challenges, versions)
    print(f"  built in {info['seconds']} s", flush=True)
    return info


def migrate(url: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "marketplace"), "migrate"], env=app_env(url), check=True, stdout=subprocess.DEVNULL)


def app_env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, SECRET_KEY="benchmark-only-secret", MARKETPLACE_RUN_WORKER="0", LOG_FORMAT="json",
               LOG_LEVEL="INFO", BASE_URL=f"http://127.0.0.1:{APP_PORT}", MARKETPLACE_MIN_STAGE_OPEN_DAYS="0", **extra)
    return env


class Servers:
    """The app and the floor, started with the same server and workers; stopped on exit."""

    def __init__(self, url: str, workers: int, server: str, logdir: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        env = app_env(url)
        logdir.mkdir(parents=True, exist_ok=True)
        self.procs.append(subprocess.Popen(
            [PY, "-c", "from marketplace.cli import run_server, served_app; "
                       f"run_server(served_app({server!r}), '127.0.0.1', {APP_PORT}, {workers}, {server!r})"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(logdir / "app.log", "wb"), start_new_session=True, cwd=ROOT))
        self.procs.append(subprocess.Popen(
            [PY, str(HERE / "floor.py"), "--port", str(FLOOR_PORT), "--workers", str(workers), "--server", server],
            env=env, stdout=subprocess.DEVNULL, stderr=open(logdir / "floor.log", "wb"), start_new_session=True, cwd=ROOT))
        try:
            for port, path in ((APP_PORT, "/favicon.ico"), (FLOOR_PORT, "/hello")):
                wait_ready(f"http://127.0.0.1:{port}{path}")
        except BaseException:
            self.stop()
            raise

    def start_worker(self, url: str, logdir: Path) -> None:
        """`marketplace worker` on its own, as deployed (the web workers run none)."""
        self.procs.append(subprocess.Popen([str(ROOT / ".venv" / "bin" / "marketplace"), "worker"], env=app_env(url),
                                           stdout=subprocess.DEVNULL, stderr=open(logdir / "worker.log", "wb"),
                                           start_new_session=True, cwd=ROOT))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {timeout:.0f} s (see var/bench/*.log)") from None
            time.sleep(0.3)


def wrk(url: str, duration: int, connections: int, threads: int) -> dict:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", str(HERE / "report.lua"), url],
                         capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    result = json.loads(line[6:])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def scenarios(info: dict) -> list[tuple[str, str, str, float]]:
    """(name, app path, floor path, target ratio) — the scenarios of issue #12's table."""
    words = info["words"]
    floor = f"/floor/{info['challenge']}"
    return [
        ("api_first_page", "/api/v1/challenges", floor, 0.6),
        ("api_q_common", f"/api/v1/challenges?q={words['common']}", floor, 0.4),
        ("api_q_everywhere", f"/api/v1/challenges?q={words['everywhere']}", floor, 0.4),
        ("api_q_rare_pair", f"/api/v1/challenges?q={words['rare_pair'].replace(' ', '+')}", floor, 0.4),
        ("api_q_prefix", f"/api/v1/challenges?q={words['common'][:4]}", floor, 0.4),
        ("api_item", f"/api/v1/challenges/{info['challenge']}", floor, 0.6),
        ("page_catalogue", "/challenges", floor, 0.5),
        ("page_challenge", f"/challenges/{info['challenge']}", floor, 0.5),
        ("no_database", "/favicon.ico", "/hello", 0.7),
    ]


def run_scenarios(info: dict, args: argparse.Namespace) -> list[dict]:
    results = []
    for name, app_path, floor_path, target in scenarios(info):
        if args.only and name not in args.only:
            continue
        pairs = []
        for _ in range(args.pairs):
            f = wrk(f"http://127.0.0.1:{FLOOR_PORT}{floor_path}", args.duration, args.connections, args.threads)
            a = wrk(f"http://127.0.0.1:{APP_PORT}{app_path}", args.duration, args.connections, args.threads)
            pairs.append((a, f))
        ratio = statistics.median(a["rps"] / f["rps"] for a, f in pairs)
        a, f = pairs[len(pairs) // 2]
        bad = sum(p[0]["non2xx"] + p[0]["errors"] for p in pairs)
        row = {"scenario": name, "app_rps": a["rps"], "app_p50": a["p50_us"] / 1000, "app_p99": a["p99_us"] / 1000,
               "floor_rps": f["rps"], "floor_p50": f["p50_us"] / 1000, "floor_p99": f["p99_us"] / 1000,
               "ratio": ratio, "target": target, "errors": bad}
        results.append(row)
        print(f"{name:18} app {row['app_rps']:7.0f} rps p50 {row['app_p50']:6.1f} p99 {row['app_p99']:6.1f} ms | "
              f"floor {row['floor_rps']:7.0f} rps p50 {row['floor_p50']:6.1f} p99 {row['floor_p99']:6.1f} ms | "
              f"ratio {ratio:.2f} (target ≥ {target}){'  ERRORS ' + str(bad) if bad else ''}", flush=True)
    return results


async def deadline_rush(url: str, info: dict) -> dict:
    """Every rush company saves its answers then submits, RUSH_CONCURRENCY at a time; then the database is checked."""
    import asyncpg
    import httpx

    conn = await asyncpg.connect(url)
    ids = [pid for pid, _ in info["rush"]]
    try:  # back to drafts, so that the rush can run again on the same data
        await conn.execute("DELETE FROM proposal_stage_version WHERE proposal_stage IN "
                           "(SELECT id FROM proposal_stage WHERE proposal = ANY($1::uuid[]))", ids)
        await conn.execute("UPDATE proposal_stage SET status = 'draft', version = 0, answers = '{}', submitted_at = NULL "
                           "WHERE proposal = ANY($1::uuid[])", ids)
        await conn.execute("UPDATE proposal SET status = 'draft' WHERE id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()
    body = {"answers": {"idea": "A shared sensor network with an open dashboard for the city.",
                        "team": "Two engineers and a designer who built the same for a port.", "motivation": "Our own street."}}
    latencies: list[float] = []
    failures: list[str] = []
    queue: asyncio.Queue = asyncio.Queue()
    for item in info["rush"]:
        queue.put_nowait(item)

    async def company(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            pid, token = queue.get_nowait()
            headers = {"authorization": f"Bearer {token}"}
            for method, path, payload in (("PUT", f"/api/v1/proposals/{pid}/stages/expression_of_interest", body),
                                          ("POST", f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", None)):
                t0 = time.perf_counter()
                response = await client.request(method, path, json=payload, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if response.status_code >= 300:
                    failures.append(f"{method} {path}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{APP_PORT}", timeout=60,
                                 limits=httpx.Limits(max_connections=RUSH_CONCURRENCY)) as client:
        await asyncio.gather(*(company(client) for _ in range(RUSH_CONCURRENCY)))
    elapsed = time.perf_counter() - started
    conn = await asyncpg.connect(url)
    try:
        counts = await conn.fetch("SELECT ps.proposal, count(v.id) AS n FROM proposal_stage ps "
                                  "LEFT JOIN proposal_stage_version v ON v.proposal_stage = ps.id "
                                  "WHERE ps.proposal = ANY($1::uuid[]) GROUP BY ps.proposal", ids)
    finally:
        await conn.close()
    lost = sum(1 for r in counts if r["n"] == 0) + (len(ids) - len(counts))
    duplicated = sum(r["n"] - 1 for r in counts if r["n"] > 1)
    latencies.sort()
    return {"companies": len(ids), "seconds": elapsed, "per_minute": len(ids) / elapsed * 60,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "lost": lost, "duplicated": duplicated, "failed_requests": len(failures), "first_failures": failures[:3]}


SEARCHES = (("first page", {}), ("common word", {"q": "tramway"}), ("word everywhere", {"q": "innovation"}),
            ("rare pair", {"q": "glacier lighthouse"}), ("prefix", {"q": "tram"}), ("prefix everywhere", {"q": "innov"}))


async def _search_p95(runs: int) -> dict:
    """In process, against DATABASE_URL: p95 of the catalogue's search for each query (ms)."""
    from marketplace.challenges.catalogue import CatalogueQuery, search
    from marketplace.core import db

    await db.open_pool()
    out = {}
    for name, query in SEARCHES:
        for _ in range(3):
            await search(CatalogueQuery(**query))
        timings = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await search(CatalogueQuery(**query))
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        out[name] = timings[int(0.95 * (len(timings) - 1))]
    await db.close_pool()
    return out


def search_p95(url: str, runs: int) -> dict:
    out = subprocess.run([PY, __file__, "--search-p95-only", str(runs)], env=app_env(url), capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def machine() -> str:
    cpus = os.cpu_count()
    load = os.getloadavg()
    return f"{cpus} vCPU, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default=os.environ.get("MARKETPLACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--challenges", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true", help="build the databases again")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3, help="floor/app pairs per scenario (median of the ratios)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None,
                        help="comma-separated scenario names (and: rush, paid, search_growth)")
    parser.add_argument("--accepts", type=int, default=300, help="milestones accepted (at 300 per minute)")
    parser.add_argument("--search-p95-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.search_p95_only:
        print(json.dumps(asyncio.run(_search_p95(args.search_p95_only))))
        return 0
    import shutil

    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run `bash deploy/system-deps.sh` (as root) or `apt-get install wrk`")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine()}; "
          f"{args.server}, {args.workers} workers, wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
          f"{args.pairs} pairs", flush=True)
    info = asyncio.run(ensure_database(args.admin_url, "marketplace_bench", args.challenges, args.versions, args.regenerate))
    url = database_url(args.admin_url, "marketplace_bench")
    servers = Servers(url, args.workers, args.server, ROOT / "var" / "bench")
    try:
        run_scenarios(info, args)
        if not args.only or "rush" in args.only:
            rush = asyncio.run(deadline_rush(url, info))
            print(f"deadline rush      {rush['companies']} companies in {rush['seconds']:.1f} s = {rush['per_minute']:.0f} /min, "
                  f"request p50 {rush['p50_ms']:.0f} ms p99 {rush['p99_ms']:.0f} ms; lost {rush['lost']}, duplicated "
                  f"{rush['duplicated']}, failed requests {rush['failed_requests']} (target 2,000 /min, p99 < 1 s, 0 lost)",
                  flush=True)
            for failure in rush["first_failures"]:
                print("   ", failure)
        if not args.only or "paid" in args.only:
            servers.start_worker(url, ROOT / "var" / "bench")
            out = subprocess.run([PY, str(HERE / "paid.py"), f"http://127.0.0.1:{APP_PORT}", str(args.accepts), "300"],
                                 env=app_env(url), capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                print("acceptance to paid failed:", out.stderr[-2000:], flush=True)
            else:
                paid = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"acceptance->paid   {paid['accepts']} accepts at 300 /min ({paid['accepted_in_s']} s): {paid['paid']} paid, "
                      f"p50 {paid['p50_s']:.2f} s, p95 {paid['p95_s']:.2f} s, max {paid['max_s']:.2f} s "
                      f"(target p95 < 2 s){' FAILURES ' + str(paid['failures']) if paid['failures'] else ''}", flush=True)
    finally:
        servers.stop()
    if not args.only or "search_growth" in args.only:
        asyncio.run(ensure_database(args.admin_url, "marketplace_bench_small", 1000, 10_000, args.regenerate))
        small = search_p95(database_url(args.admin_url, "marketplace_bench_small"), 60)
        big = search_p95(url, 60)
        for name in small:
            print(f"search p95 {name:18} {small[name]:6.1f} ms at 1,000 -> {big[name]:6.1f} ms at {args.challenges:,}: "
                  f"{big[name] / small[name]:.1f}x (target ≤ 2x)", flush=True)
    print(f"done on {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
