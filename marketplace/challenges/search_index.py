"""The catalogue's full-text index on SQLite, and how to rebuild it.

SQLite's FTS5 table `challenge_fts` is keyed on the implicit rowid of `challenge` (whose primary key is a UUID).
VACUUM may renumber those rowids, after which searches return the wrong challenges: run
`marketplace search rebuild` (or `--vacuum` to do both) after any VACUUM. PostgreSQL keeps its search
vector in a generated column of the row itself, so there is nothing to rebuild there.
"""

from __future__ import annotations

from marketplace.challenges.tables import Challenge
from marketplace.core.db import engine, is_postgres, transaction

# The searched document: the same columns, in the same order, as the 22:20 (SQLite) and 22:40 (PostgreSQL) migrations.
COLUMNS = ("title", "summary", "problem", "affected_users", "desired_outcomes", "topics")
DOCUMENT = " || ' ' || ".join(COLUMNS)


async def rebuild_search_index() -> int | None:
    """Refill the SQLite index from the challenges (one transaction: searches never see it half empty).
    Returns the number of challenges indexed; None on PostgreSQL, where nothing needs rebuilding."""
    if is_postgres():
        return None
    async with transaction():
        await Challenge.raw("DELETE FROM challenge_fts")
        await Challenge.raw(f"INSERT INTO challenge_fts(rowid, body) SELECT rowid, {DOCUMENT} FROM challenge")
    return await Challenge.count()


async def vacuum_and_rebuild() -> int | None:
    """VACUUM the SQLite database (outside any transaction), then rebuild the index it may have broken."""
    if is_postgres():
        return None
    await engine().run_ddl("VACUUM", in_pool=False)
    return await rebuild_search_index()
