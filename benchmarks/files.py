"""Upload and download latency of the file storage backends (`marketplace.files`): the local folder against the
database (PostgreSQL, and SQLite for comparison), for files of 100 kB, 1 MB and 10 MB.

    .venv/bin/python benchmarks/files.py [--runs 30] [--sizes 100000,1000000,10000000] [--no-sqlite]

It creates a throwaway PostgreSQL database on MARKETPLACE_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres) and a temporary folder, migrates them, times `files.write`,
`files.read` and a streamed read (`files.stream`, 256 kB chunks) in process, prints median and p95 in ms, and
drops what it created.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ADMIN_URL = os.environ.get("MARKETPLACE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered) * 1000:.1f} / {p95 * 1000:.1f}"


async def _time(runs: int, size: int) -> tuple[list[float], list[float], list[float]]:
    from marketplace import files

    data = os.urandom(size)  # incompressible, as PDFs and images mostly are
    writes, reads, streams = [], [], []
    for _ in range(runs):
        name = uuid.uuid4().hex
        started = time.perf_counter()
        await files.write("bench", name, data)
        writes.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert len(await files.read("bench", name)) == size
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert sum([len(chunk) async for chunk in files.stream("bench", name)]) == size
        streams.append(time.perf_counter() - started)
        await files.delete("bench", name)
    return writes, reads, streams


async def _case(runs: int, sizes: list[int]) -> None:
    """In a child process whose environment names the database and the backend: print one table row per size."""
    from marketplace.core import db

    await db.open_pool()
    await db.migrate()
    try:
        for size in sizes:
            await _time(2, size)  # warm-up
            writes, reads, streams = await _time(runs, size)
            print(f"| {os.environ['BENCH_LABEL']} | {size / 1e6:g} MB | {_ms(writes)} | {_ms(reads)} | {_ms(streams)} |",
                  flush=True)
    finally:
        await db.close_pool()


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.case:
        asyncio.run(_case(args.runs, sizes))
        return 0
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    tmp = Path(tempfile.mkdtemp(prefix="marketplace-files-bench-"))
    pg_name = f"marketplace_files_bench_{uuid.uuid4().hex[:6]}"
    pg_url = re.sub(r"/[^/]*$", f"/{pg_name}", ADMIN_URL)
    asyncio.run(_admin(f'CREATE DATABASE "{pg_name}"'))
    load = os.getloadavg()[0]
    try:
        cases = [("local folder", "local", f"sqlite:///{tmp / 'local.sqlite3'}"),
                 ("PostgreSQL", "database", pg_url)]
        if not args.no_sqlite:
            cases.append(("SQLite", "database", f"sqlite:///{tmp / 'files.sqlite3'}"))
        print(f"load average {load:.1f}, {args.runs} runs per size; median / p95 in ms")
        print("| storage | size | write | read | streamed read |")
        print("|---|---|---|---|---|")
        for label, backend, url in cases:
            env = {**os.environ, "DATABASE_URL": url, "MARKETPLACE_FILE_STORAGE": backend, "BENCH_LABEL": label,
                   "MARKETPLACE_UPLOAD_DIR": str(tmp / "uploads")}
            subprocess.run([sys.executable, __file__, "--case", "--runs", str(args.runs), "--sizes", args.sizes],
                           env=env, check=True)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
