"""The public catalogue: search, filters, sort and cursor pagination; versions of a challenge."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marketplace.challenges import schemas
from marketplace.challenges.services import PUBLIC_STATUSES, visible_row
from marketplace.challenges.tables import Challenge, ChallengeVersion
from marketplace.core.auth import Principal
from marketplace.core.bounds import parse_int, parse_moment
from marketplace.core.clock import as_utc, from_db, now, rfc3339
from marketplace.core.db import is_postgres
from marketplace.core.errors import FieldError, Invalid
from marketplace.core.money import MAX_CENTS, Money


async def versions(principal: Principal | None, challenge_id: Any) -> schemas.VersionList:
    """Every published version, oldest first, with its change note."""
    row = await visible_row(principal, challenge_id)
    rows = await ChallengeVersion.select().where(ChallengeVersion.challenge == row["id"]).order_by(ChallengeVersion.version)
    return schemas.VersionList(items=[
        schemas.VersionOut(version=r["version"], change_note=r["change_note"], created_at=rfc3339(r["created_at"]) or "",
                           snapshot=json.loads(r["snapshot"]))
        for r in rows
    ])


# --- the catalogue --------------------------------------------------------------------------------------------------

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
FEW_MATCHES = 1000
SUGGEST_BELOW = 3  # a first page with fewer challenges than this looks for mistyped words
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SORTS = ("newest", "closing", "budget")
JOINABLE = "open"  # `status=open`: published and still taking part, i.e. its first stage is open now


@dataclass
class CatalogueQuery:
    """The catalogue's query string, checked: every wrong parameter is named (422)."""

    q: str | None = None
    topic: str | None = None
    cpv: str | None = None
    buyer: str | None = None
    status: str | None = None
    min_budget: str | None = None
    max_budget: str | None = None
    closing_before: str | None = None
    sort: str | None = None
    limit: str | None = None
    cursor: str | None = None


@dataclass
class _Checked:
    words: list[str] = field(default_factory=list)
    topic: str | None = None
    cpv: str | None = None
    buyer: uuid.UUID | None = None
    statuses: tuple[str, ...] = ("published",)
    min_budget: int | None = None
    max_budget: int | None = None
    closing_before: datetime | None = None
    sort: str = "newest"
    limit: int = 20
    after: tuple[Any, str] | None = None
    joinable: bool = False
    similar: bool = False  # the cursor continues a page of similar words (q itself found nothing)


def _int_param(name: str, raw: str, errors: list[FieldError], low: int, high: int) -> int | None:
    try:
        return parse_int(name, raw, low, high)
    except Invalid as exc:
        errors.extend(exc.errors)
        return None


def _cursor_key(sort: str, key: Any) -> Any:
    """The sort key a cursor carries, within the range of the column it stands for (ValueError otherwise)."""
    if sort == "budget":
        if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= MAX_CENTS:
            raise ValueError
        return key
    if not isinstance(key, str):
        raise ValueError
    try:
        return parse_moment("cursor", key, require_zone=False)
    except Invalid:
        raise ValueError from None


def check_query(query: CatalogueQuery) -> _Checked:
    errors: list[FieldError] = []
    out = _Checked()
    if query.q is not None:
        if len(query.q) > MAX_QUERY_CHARS:
            errors.append(FieldError("q", f"is longer than {MAX_QUERY_CHARS} characters"))
        else:
            out.words = [w.lower() for w in re.findall(r"\w+", query.q)][:MAX_WORDS]
    if query.topic:
        out.topic = " ".join(query.topic.split()).lower()[:60]
    if query.cpv:
        if not re.fullmatch(r"\d{1,8}", query.cpv):
            errors.append(FieldError("cpv", "must be 1 to 8 digits (the start of a CPV code)"))
        out.cpv = query.cpv
    if query.buyer:
        try:
            out.buyer = uuid.UUID(query.buyer)
        except ValueError:
            errors.append(FieldError("buyer", "is not an organisation id"))
    if query.status == JOINABLE:
        out.joinable = True
    elif query.status:
        statuses = tuple(s.strip() for s in query.status.split(","))
        bad = [s for s in statuses if s not in PUBLIC_STATUSES]
        if bad:
            errors.append(FieldError("status", f"must be {JOINABLE} or among {', '.join(PUBLIC_STATUSES)}"))
        out.statuses = statuses
    if query.min_budget:
        out.min_budget = _int_param("min_budget", query.min_budget, errors, 0, MAX_CENTS)
    if query.max_budget:
        out.max_budget = _int_param("max_budget", query.max_budget, errors, 0, MAX_CENTS)
    if query.closing_before:
        try:
            out.closing_before = parse_moment("closing_before", query.closing_before)
        except Invalid as exc:
            errors.extend(exc.errors)
    if query.sort:
        if query.sort not in SORTS:
            errors.append(FieldError("sort", f"must be one of {', '.join(SORTS)}"))
        else:
            out.sort = query.sort
    if query.limit:
        out.limit = _int_param("limit", query.limit, errors, 1, 100) or 20
    if query.cursor:
        try:
            sort, key, ident, *similar = json.loads(base64.urlsafe_b64decode(query.cursor.encode() + b"==="))
            if sort != out.sort or not isinstance(ident, str) or similar not in ([], [1]):
                raise ValueError
            out.similar = bool(similar)
            uuid.UUID(ident)
            out.after = (_cursor_key(sort, key), ident)
        except (ValueError, TypeError, RecursionError, json.JSONDecodeError, binascii.Error):
            errors.append(FieldError("cursor", "is not a cursor from this list (with the same sort)"))
    if errors:
        raise Invalid(errors)
    return out


def _cursor(sort: str, key: Any, ident: Any, similar: bool = False) -> str:
    raw = json.dumps([sort, key if isinstance(key, int) else as_utc(key).isoformat(), str(ident), *([1] if similar else [])])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(query: CatalogueQuery) -> schemas.ChallengePage:
    """Published challenges matching the query, in pages (keyset pagination: stable under inserts).

    Typos are forgiven only when the words as typed find fewer than `SUGGEST_BELOW` challenges on the first page,
    so that the common search costs what it did: when they find nothing, the page lists the challenges matching
    the words of the public challenges most similar to the unknown ones (`similar`); either way `did_you_mean`
    offers the query with each unknown word replaced by its most similar word, if that finds more."""
    p = check_query(query)
    if p.similar:  # the next page of a search by similar words
        spelled = await _spelling(p.words)
        if spelled is None:
            return schemas.ChallengePage(items=[], next_cursor=None)
        return await _search(p, spelled[0], similar=True)
    page = await _search(p, [(w,) for w in p.words])
    if not p.words or p.after is not None or len(page.items) >= min(SUGGEST_BELOW, p.limit):
        return page
    spelled = await _spelling(p.words)
    if spelled is None:
        return page
    terms, suggestion = spelled
    if not page.items:
        found = await _search(p, terms, similar=True)
        if found.items:
            found.did_you_mean = suggestion
            return found
        return page
    better = await _search(p, [(w,) for w in suggestion.split()])
    if len(better.items) > len(page.items):
        page.did_you_mean = suggestion
    return page


async def _spelling(words: list[str]) -> tuple[list[tuple[str, ...]], str] | None:
    """For the words no public challenge uses, the most similar words that some do: the search terms (each
    unknown word or one of its similar words) and the suggested query (each replaced by the most similar);
    None when no word has a similar one."""
    from marketplace.challenges.search_index import WORD, known_words, similar_words

    known = await known_words(words)
    terms: list[tuple[str, ...]] = []
    suggestion: list[str] = []
    for word in words:
        similar = await similar_words(word) if word not in known and WORD.fullmatch(word) else []
        terms.append((word, *similar))
        suggestion.append(similar[0] if similar else word)
    if suggestion == words:
        return None
    return terms, " ".join(suggestion)


async def _search(p: _Checked, terms: list[tuple[str, ...]], similar: bool = False) -> schemas.ChallengePage:
    """One page of challenges having, for each term, one of its words (or a word starting with it)."""
    postgres = is_postgres()
    # On SQLite a unary plus keeps the planner from using a low-selectivity index for a filter, so that it reads
    # the page in the sort index's order instead of sorting thousands of rows.
    plus = "" if postgres else "+"
    # Every public challenge was published. Saying so lets PostgreSQL start the newest-first walk of
    # (published_at, id) at the newest publication instead of walking past every draft (DESC puts NULLs first).
    where = [f"{plus}c.status IN ({', '.join('{}' for _ in p.statuses)})", "c.published_at IS NOT NULL"]
    args: list[Any] = list(p.statuses)
    if terms:
        if postgres:
            where.append("c.search_vector @@ to_tsquery('simple', {})")  # a stored column with a GIN index
            args.append(" & ".join(_either((f"{w}:*" for w in term), " | ") for term in terms))
        else:
            match = " AND ".join(_either((f'"{w}"*' for w in term), " OR ") for term in terms)
            found = await Challenge.raw(f"SELECT count(*) AS n FROM (SELECT 1 FROM challenge_fts WHERE challenge_fts MATCH {{}} "
                                        f"LIMIT {FEW_MATCHES})", match)
            if not found[0]["n"]:
                return schemas.ChallengePage(items=[], next_cursor=None, similar=similar)
            # Few matches: look them up and sort them. Many: walk the sort order and test membership.
            rowid = "c.rowid" if found[0]["n"] < FEW_MATCHES else "c.rowid + 0"
            where.append(f"{rowid} IN (SELECT rowid FROM challenge_fts WHERE challenge_fts MATCH {{}})")
            args.append(match)
    if p.topic:
        where.append("c.topics LIKE {} ESCAPE '\\'")
        args.append(f"%{_like(json.dumps(p.topic))}%")
    if p.cpv:
        where.append("c.cpv_codes LIKE {}")
        args.append(f'%"{p.cpv}%')
    if p.buyer:
        where.append("c.buyer = {}")
        args.append(p.buyer)
    if p.min_budget is not None:
        where.append(f"{plus}c.budget_cap_cents >= {{}}")
        args.append(p.min_budget)
    if p.max_budget is not None:
        where.append(f"{plus}c.budget_cap_cents <= {{}}")
        args.append(p.max_budget)
    if p.closing_before is not None:
        where.append("s.closes_at < {}")
        args.append(p.closing_before)
    if p.joinable:  # a company can still start a proposal: the first stage is the current one and open now
        moment = now()
        where.append("s.position = 0 AND s.opens_at <= {} AND s.closes_at > {}")
        args += [moment, moment]
    key_column, direction = {"newest": ("c.published_at", "DESC"), "closing": ("s.closes_at", "ASC"),
                             "budget": ("c.budget_cap_cents", "DESC")}[p.sort]
    if p.sort == "closing":
        where.append("s.closes_at > {}")  # a range, so that SQLite walks the deadline index
        args.append(EPOCH)
    if p.after is not None:
        op = "<" if direction == "DESC" else ">"
        where.append(f"({key_column} {op} {{}} OR ({key_column} = {{}} AND c.id {op} {{}}))")
        args += [p.after[0], p.after[0], uuid.UUID(p.after[1])]
    # An inner join when the stage decides the order or the filter, so that the planner can walk the deadline index.
    join = "JOIN" if p.sort == "closing" or p.closing_before is not None or p.joinable else "LEFT JOIN"
    sql = (
        "SELECT c.id, c.status, c.title, c.summary, c.topics, c.cpv_codes, c.budget_cap_cents, c.currency, "
        "c.current_stage, c.published_at, c.buyer, o.name AS buyer_name, s.closes_at AS closes_at "
        f"FROM challenge c {join} challenge_stage s ON s.challenge = c.id AND s.key = c.current_stage "
        "LEFT JOIN organisation o ON o.id = c.buyer "  # LEFT: SQLite keeps the challenge as the outer loop
        f"WHERE {' AND '.join(where)} ORDER BY {key_column} {direction}, c.id {direction} LIMIT {p.limit + 1}"
    )
    rows = await Challenge.raw(sql, *args)
    page, more = rows[: p.limit], len(rows) > p.limit
    next_cursor = None
    if more:
        last = page[-1]
        key = {"newest": "published_at", "closing": "closes_at", "budget": "budget_cap_cents"}[p.sort]
        next_cursor = _cursor(p.sort, _as_key(last[key], p.sort), last["id"], similar)
    return schemas.ChallengePage(items=[summary_out(r) for r in page], next_cursor=next_cursor, similar=similar)


def _either(alternatives: Any, operator: str) -> str:
    """One word, or any of several: `(a OR b)`."""
    words = list(alternatives)
    return words[0] if len(words) == 1 else "(" + operator.join(words) + ")"


def _as_key(value: Any, sort: str) -> Any:
    if sort == "budget":
        return int(value)
    return from_db(value)


def summary_out(row: dict) -> schemas.ChallengeSummary:
    return schemas.ChallengeSummary(
        id=str(row["id"]), status=row["status"], title=row["title"], summary=row["summary"],
        topics=json.loads(row["topics"]), cpv_codes=json.loads(row["cpv_codes"]),
        budget_cap=Money(amount=int(row["budget_cap_cents"]), currency=row["currency"]),
        buyer=schemas.BuyerOut(id=str(row["buyer"]), name=row["buyer_name"]), current_stage=row["current_stage"],
        closes_at=rfc3339(from_db(row["closes_at"])), published_at=rfc3339(from_db(row["published_at"])),
    )
