"""Count (and keep) the SQL statements the app sends: `async with counted() as queries: ...; len(queries)`.

Every Piccolo query and raw statement goes through the engine's `run_querystring`; a test that a page or a
save runs a fixed number of queries fails when a change reads the same rows again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from marketplace.core.db import engine


@asynccontextmanager
async def counted() -> AsyncIterator[list[tuple[str, tuple]]]:
    kind = type(engine())
    original = kind.run_querystring
    seen: list[tuple[str, tuple]] = []

    async def run_querystring(self, querystring, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(querystring.compile_string(engine_type=self.engine_type))
        return await original(self, querystring, *args, **kwargs)

    kind.run_querystring = run_querystring  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        kind.run_querystring = original  # type: ignore[method-assign]
