"""The catalogue's full-text index on SQLite, and how to rebuild it.

SQLite's FTS5 table `challenge_fts` is keyed on the implicit rowid of `challenge` (whose primary key is a UUID).
VACUUM may renumber those rowids, after which searches return the wrong challenges: run
`marketplace search rebuild` (or `--vacuum` to do both) after any VACUUM. PostgreSQL keeps its search
vector in a generated column of the row itself, so there is nothing to rebuild there. On both, the rebuild also
relearns the vocabulary of the public challenges (the words "did you mean" offers), e.g. after a bulk load.
"""

from __future__ import annotations

import math
import re
import unicodedata

from marketplace.challenges.tables import Challenge, SearchTrigram, SearchWord
from marketplace.core.db import engine, is_postgres, transaction

# The searched document: the same columns, in the same order, as the 22:20 (SQLite) and 22:40 (PostgreSQL) migrations.
COLUMNS = ("title", "summary", "problem", "affected_users", "desired_outcomes", "topics")
DOCUMENT = " || ' ' || ".join(COLUMNS)


async def rebuild_search_index() -> int | None:
    """Refill the SQLite index from the challenges (one transaction: searches never see it half empty).
    Returns the number of challenges indexed; None on PostgreSQL, where only the vocabulary is relearned."""
    if is_postgres():
        async with transaction():
            await rebuild_vocabulary()
        return None
    async with transaction():
        await Challenge.raw("DELETE FROM challenge_fts")
        await Challenge.raw(f"INSERT INTO challenge_fts(rowid, body) SELECT rowid, {DOCUMENT} FROM challenge")
        await rebuild_vocabulary()
    return await Challenge.count()


async def vacuum_and_rebuild() -> int | None:
    """VACUUM the SQLite database (outside any transaction), then rebuild the index it may have broken."""
    if is_postgres():
        return None
    await engine().run_ddl("VACUUM", in_pool=False)
    return await rebuild_search_index()


# --- the vocabulary, for forgiving typos ----------------------------------------------------------------------------
#
# Both databases keep the words of the public challenges and each word's trigrams in two small tables
# (`search_word`, `search_trigram`), filled here in Python. The same tables and the same measure on both databases
# mean the same suggestions on both; PostgreSQL's pg_trgm extension would need CREATE EXTENSION rights that a
# normal migration may not have, and SQLite's trigram tokenizer finds substrings, not similar words.
# Only public challenges teach words: a draft's words are never suggested.

WORD = re.compile(r"[^\W\d_]{3,40}")  # letters only: digits and codes are not corrected
SIMILAR_ENOUGH = 0.3  # pg_trgm's default similarity threshold
PUBLIC = ("published", "awarded", "closed", "archived")


def plain(word: str) -> str:
    """Lower case without diacritics (as SQLite's index compares): "Sécurité" -> "securite"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before and one after."""
    padded = f"  {plain(word)} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams of both (pg_trgm's `similarity`)."""
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta or tb else 0.0


def words_of(row: dict) -> set[str]:
    """The words of a challenge's searched text (the same columns as the full-text index), lower case."""
    text = " ".join(str(row.get(c) or "") for c in COLUMNS)
    return {w.lower() for w in WORD.findall(text)}


async def learn_words(row: dict, before: dict | None = None) -> int:
    """Add the words of a challenge that has become public (or, given its row `before`, the words an amendment
    added) to the vocabulary; returns how many no challenge used yet. Inside the caller's transaction."""
    if row.get("status") not in PUBLIC:
        return 0
    return await _learn({w: 1 for w in words_of(row) - (words_of(before) if before else set())})


async def _learn(uses: dict[str, int]) -> int:
    new: list[str] = []
    ordered = sorted(uses)
    for start in range(0, len(ordered), 400):
        chunk = ordered[start:start + 400]
        rows = await SearchWord.raw(f"INSERT INTO search_word (word, uses) VALUES {', '.join('({}, {})' for _ in chunk)} "
                                    "ON CONFLICT (word) DO UPDATE SET uses = search_word.uses + excluded.uses "
                                    "RETURNING word, uses", *[v for w in chunk for v in (w, uses[w])])
        new += [r["word"] for r in rows if r["uses"] == uses[r["word"]]]
    grams = [(g, len(trigrams(w)), w) for w in new for g in sorted(trigrams(w))]
    for start in range(0, len(grams), 300):
        chunk = grams[start:start + 300]
        await SearchTrigram.raw(f"INSERT INTO search_trigram (trigram, size, word) VALUES "
                                f"{', '.join('({}, {}, {})' for _ in chunk)}", *[v for g in chunk for v in g])
    return len(new)


async def rebuild_vocabulary() -> int:
    """Relearn the words of every public challenge (after bulk loads, or to forget words no challenge uses)."""
    await SearchTrigram.raw("DELETE FROM search_trigram")
    await SearchWord.raw("DELETE FROM search_word")
    words: dict[str, int] = {}
    last = None
    while True:  # in batches by id, so that memory holds the words, not the challenges
        where = "status IN ({}, {}, {}, {})" + (" AND id > {}" if last is not None else "")
        rows = await Challenge.raw(f"SELECT id, {', '.join(COLUMNS)} FROM challenge WHERE {where} ORDER BY id LIMIT 2000",
                                   *PUBLIC, *([last] if last is not None else []))
        if not rows:
            break
        for row in rows:
            for word in words_of(row):
                words[word] = words.get(word, 0) + 1
        last = rows[-1]["id"]
    return await _learn(words)


async def known_words(words: list[str]) -> set[str]:
    """Those of `words` that some public challenge uses."""
    if not words:
        return set()
    rows = await SearchWord.raw(f"SELECT word FROM search_word WHERE word IN ({', '.join('{}' for _ in words)})", *words)
    return {r["word"] for r in rows}


async def similar_words(word: str, limit: int = 3) -> list[str]:
    """The vocabulary words most similar to `word` (at least `SIMILAR_ENOUGH`), most similar first."""
    grams = sorted(trigrams(word))
    n = len(grams)
    # A word can only be similar enough if its own number of trigrams is within these bounds.
    low, high = math.ceil(n * SIMILAR_ENOUGH), math.floor(n / SIMILAR_ENOUGH)
    rows = await SearchTrigram.raw(
        f"SELECT word, count(*) AS shared, max(size) AS size FROM search_trigram "
        f"WHERE trigram IN ({', '.join('{}' for _ in grams)}) AND size BETWEEN {{}} AND {{}} GROUP BY word "
        f"ORDER BY count(*) * 1.0 / (max(size) + {n} - count(*)) DESC, word LIMIT 20", *grams, low, high)
    scored = {r["word"]: r["shared"] / (r["size"] + n - r["shared"]) for r in rows if r["word"] != word}
    scored = {w: score for w, score in scored.items() if score >= SIMILAR_ENOUGH}
    if not scored:
        return []
    # Equally similar words: the one more challenges use first ("floding": flooding rather than a rare flodding).
    uses = {r["word"]: r["uses"] for r in await SearchWord.raw(
        f"SELECT word, uses FROM search_word WHERE word IN ({', '.join('{}' for _ in scored)})", *scored)}
    return sorted(scored, key=lambda w: (-scored[w], -uses.get(w, 0), w))[:limit]
