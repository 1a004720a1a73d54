"""The benchmark's data at size, written with PostgreSQL's COPY: 100,000 challenges (80 % published with three
dated stages), 2,000 companies with a member and an API token each, 200,000 proposals with 1,000,000 submitted
stage versions, and one "rush" challenge whose first stage is open with a draft proposal per company.

Built once per database and reused: a `bench_meta` row says which size a database holds. The words the search
scenarios look for are planted at known frequencies: `innovation` in every challenge, `tramway` in 1.6 %,
`glacier` and `lighthouse` in 0.5 % each (so both in about 25).
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from catalogue import CPV, TOPICS, text, vocabulary

from marketplace.core.security import hash_token

COMPANIES = 2000
RUSH_COMPANIES = 1000
PROPOSALS_PER_CHALLENGE = 3
VERSIONS_PER_STAGE = 5
BIG_TABLES = ("challenge", "challenge_stage", "proposal", "proposal_stage", "proposal_stage_version")
EVERYWHERE, COMMON, RARE_PAIR = "innovation", "tramway", ("glacier", "lighthouse")


def token(i: int) -> str:
    return f"bench-company-token-{i:05d}"


def meta_key(challenges: int, versions: int) -> str:
    return f"challenges={challenges} versions={versions} v1"


async def _copy(conn, table: str, columns: list[str], rows: list[tuple]) -> None:  # type: ignore[no-untyped-def]
    await conn.copy_records_to_table(table, records=rows, columns=columns)


async def populate(url: str, challenges: int, versions: int, seed: int = 7) -> dict:
    """Fill the (migrated, empty) database at `url`; returns what the scenarios need (ids, words)."""
    import asyncpg

    rng = random.Random(seed)
    vocab = vocabulary(3000, rng)
    rng.shuffle(vocab)
    pools = {name: [text(rng, vocab, n) for _ in range(3000)] for name, n in
             (("title", 8), ("summary", 30), ("problem", 80), ("affected", 15), ("outcomes", 20))}
    now = datetime.now(UTC).replace(microsecond=0)
    base = now - timedelta(days=1)
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SET synchronous_commit = off")
        # Secondary indexes are built once after the load, not maintained row by row (GIN above all).
        deferred = await conn.fetch(
            "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY($1::text[]) AND NOT i.indisprimary "
            "AND NOT i.indisunique", list(BIG_TABLES))
        for index in deferred:
            await conn.execute(f"DROP INDEX {index['name']}")
        async with conn.transaction():
            buyers = [(uuid.uuid4(), "public_body", f"Public body {i}", "") for i in range(200)]
            companies = [(uuid.uuid4(), "company", f"Benchmark company {i}", "We build things that work.") for i in range(COMPANIES)]
            await _copy(conn, "organisation", ["id", "kind", "name", "description"], buyers + companies)
            users = [(uuid.uuid4(), f"member{i}@bench.example", f"Member {i}", "!", "en") for i in range(COMPANIES)]
            await _copy(conn, "app_user", ["id", "email", "name", "password_hash", "locale"], users)
            await _copy(conn, "membership", ["id", "user", "organisation", "role"],
                        [(uuid.uuid4(), users[i][0], companies[i][0], "company_member") for i in range(COMPANIES)])
            await _copy(conn, "api_token", ["id", "user", "token_hash"],
                        [(uuid.uuid4(), users[i][0], hash_token(token(i))) for i in range(COMPANIES)])

            rows, stages, published = [], [], []
            for i in range(challenges):
                roll = rng.random()
                status = "published" if roll < 0.8 else "closed" if roll < 0.9 else "awarded" if roll < 0.95 else "draft"
                cid = uuid.uuid4()
                words = [EVERYWHERE]
                if rng.random() < 0.016:
                    words.append(COMMON)
                words += [w for w in RARE_PAIR if rng.random() < 0.005]
                rows.append((
                    cid, rng.choice(buyers)[0], status, rng.choice(pools["title"])[:180],
                    f"{rng.choice(pools['summary'])} {' '.join(words)}", rng.choice(pools["problem"]),
                    rng.choice(pools["affected"]), rng.choice(pools["outcomes"]),
                    json.dumps(rng.sample(TOPICS, rng.randint(1, 3))), json.dumps(rng.sample(CPV, rng.randint(1, 2))),
                    rng.randrange(500_000, 3_000_001, 50_000),
                    None if status == "draft" else base - timedelta(minutes=challenges - i),
                    "expression_of_interest" if status == "published" else None,
                ))
                if status == "published":
                    published.append(cid)
                    opens = base - timedelta(days=rng.randint(0, 20))
                    for pos, (key, days) in enumerate((("expression_of_interest", 21), ("short_proposal", 30), ("pitch", 14))):
                        closes = opens + timedelta(days=days + rng.randint(0, 30), minutes=rng.randint(0, 1440))
                        stages.append((uuid.uuid4(), cid, key, pos, opens, closes, "open" if pos == 0 else "pending"))
                        opens = closes
            challenge_columns = ["id", "buyer", "status", "title", "summary", "problem", "affected_users", "desired_outcomes",
                                 "topics", "cpv_codes", "budget_cap_cents", "published_at", "current_stage"]
            await _copy(conn, "challenge", challenge_columns, rows)
            stage_columns = ["id", "challenge", "key", "position", "opens_at", "closes_at", "status"]
            await _copy(conn, "challenge_stage", stage_columns, stages)

            # Proposals with their submitted versions (the history the deadline rush writes next to).
            answers = json.dumps({"idea": "A sensor network and a dashboard.", "team": "Two engineers.", "motivation": "Our city."})
            per_stage = VERSIONS_PER_STAGE
            target_stages = -(-versions // per_stage)
            proposals, copies, history = [], [], []
            n = 0
            for ci, cid in enumerate(published):
                for k in range(PROPOSALS_PER_CHALLENGE):
                    if n >= target_stages:
                        break
                    company, user = companies[(ci * PROPOSALS_PER_CHALLENGE + k) % COMPANIES][0], users[(ci * PROPOSALS_PER_CHALLENGE + k) % COMPANIES][0]
                    pid, sid = uuid.uuid4(), uuid.uuid4()
                    proposals.append((pid, cid, company, user, "submitted", "expression_of_interest"))
                    copies.append((sid, pid, "expression_of_interest", answers, "submitted", per_stage, base))
                    history.extend((uuid.uuid4(), sid, v + 1, answers, base, user) for v in range(per_stage))
                    n += 1
                if n >= target_stages:
                    break
            await _copy(conn, "proposal", ["id", "challenge", "company", "created_by", "status", "current_stage"], proposals)
            await _copy(conn, "proposal_stage", ["id", "proposal", "stage", "answers", "status", "version", "submitted_at"], copies)
            history = history[:versions]
            await _copy(conn, "proposal_stage_version", ["id", "proposal_stage", "version", "answers", "submitted_at", "submitted_by"],
                        history)

            # The deadline rush: a challenge open now, a draft proposal per company, saved and submitted by the benchmark.
            rush = uuid.uuid4()
            await _copy(conn, "challenge", challenge_columns, [(
                rush, buyers[0][0], "published", "Deadline rush challenge", f"The rush {EVERYWHERE}", "p", "a", "o",
                json.dumps(["mobility"]), json.dumps(["72212000-4"]), 3_000_000, base, "expression_of_interest")])
            await _copy(conn, "challenge_stage", stage_columns, [
                (uuid.uuid4(), rush, "expression_of_interest", 0, base, now + timedelta(days=60), "open"),
                (uuid.uuid4(), rush, "short_proposal", 1, now + timedelta(days=60), now + timedelta(days=90), "pending"),
                (uuid.uuid4(), rush, "pitch", 2, now + timedelta(days=90), now + timedelta(days=104), "pending")])
            rush_proposals = [(uuid.uuid4(), rush, companies[i][0], users[i][0], "draft", "expression_of_interest")
                              for i in range(RUSH_COMPANIES)]
            await _copy(conn, "proposal", ["id", "challenge", "company", "created_by", "status", "current_stage"], rush_proposals)
            await _copy(conn, "proposal_stage", ["id", "proposal", "stage", "answers", "status", "version"],
                        [(uuid.uuid4(), p[0], "expression_of_interest", "{}", "draft", 0) for p in rush_proposals])
        await conn.execute("SET maintenance_work_mem = '256MB'")
        for index in deferred:
            await conn.execute(index["definition"])
        await conn.execute("VACUUM ANALYZE")  # also flushes the GIN pending list the COPY filled
        info = {
            "challenge": str(published[len(published) // 2]),
            "rush_challenge": str(rush),
            "rush": [[str(p[0]), token(i)] for i, p in enumerate(rush_proposals)],
            "words": {"everywhere": EVERYWHERE, "common": COMMON, "rare_pair": " ".join(RARE_PAIR)},
            "seconds": round(time.perf_counter() - started, 1),
            "versions": len(history),
        }
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, info text)")
        await conn.execute("INSERT INTO bench_meta VALUES ($1, $2)", meta_key(challenges, versions), json.dumps(info))
        return info
    finally:
        await conn.close()
