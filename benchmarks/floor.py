"""The floor the app is measured against: bare Litestar handlers on the same server, workers and pool.

`GET /floor/{id}` reads one `challenge` row by primary key with Piccolo and returns it as a msgspec struct;
`GET /hello` answers a constant (the floor of a route without database).

    DATABASE_URL=postgresql://... .venv/bin/python benchmarks/floor.py --port 8702 --workers 2
"""

from __future__ import annotations

import argparse
import sys
import uuid
from datetime import datetime
from pathlib import Path

import msgspec
from litestar import Litestar, get
from litestar.exceptions import NotFoundException

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Row(msgspec.Struct):
    id: str
    status: str
    title: str
    summary: str
    budget_cap_cents: int
    published_at: datetime | None


@get("/floor/{challenge_id:uuid}", sync_to_thread=False)
async def one_challenge(challenge_id: uuid.UUID) -> Row:
    from marketplace.challenges.tables import Challenge

    row = await Challenge.select(Challenge.id, Challenge.status, Challenge.title, Challenge.summary,
                                 Challenge.budget_cap_cents, Challenge.published_at).where(Challenge.id == challenge_id).first()
    if row is None:
        raise NotFoundException()
    return Row(id=str(row["id"]), status=row["status"], title=row["title"], summary=row["summary"],
               budget_cap_cents=row["budget_cap_cents"], published_at=row["published_at"])


@get("/hello", sync_to_thread=False)
async def hello() -> str:
    return "hello"


def create_app() -> Litestar:
    from marketplace.core import db

    return Litestar([one_challenge, hello], on_startup=[db.open_pool], on_shutdown=[db.close_pool], logging_config=None)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    args = parser.parse_args()
    from marketplace.cli import run_server

    run_server("floor:create_app", args.host, args.port, args.workers, args.server, app_dir=str(Path(__file__).parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
