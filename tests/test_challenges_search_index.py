"""After a VACUUM renumbers SQLite rowids, the catalogue's full-text index points at the wrong challenges until rebuilt."""

import pytest

from marketplace.challenges import catalogue
from marketplace.challenges.search_index import rebuild_search_index, vacuum_and_rebuild
from marketplace.challenges.tables import Challenge
from marketplace.cli import build_parser, cmd_search_rebuild
from marketplace.core.db import engine, is_postgres
from tests.factories_challenges import make_buyer_team, make_challenge


async def titles_found(word: str) -> list[str]:
    page = await catalogue.search(catalogue.CatalogueQuery(q=word))
    return [item.title for item in page.items]


async def test_search_finds_the_right_challenges_again_after_vacuum_and_rebuild():
    if is_postgres():
        assert await rebuild_search_index() is None  # the search vector lives in the row itself
        return
    team = await make_buyer_team()
    gone = await make_challenge(team.org, title="Gone before the vacuum")
    await make_challenge(team.org, title="Potholes in Ghent", summary="Roads crack every winter.")
    await make_challenge(team.org, title="Benches in Leuven", summary="Benches break.")
    await Challenge.delete().where(Challenge.id == gone.id)  # a gap in the rowids, which VACUUM may close
    await engine().run_ddl("VACUUM")
    # Whether this SQLite's VACUUM renumbers depends on its copy strategy: renumber as it may, without the triggers.
    await Challenge.raw("UPDATE challenge SET rowid = rowid + 1000")
    await Challenge.raw("UPDATE challenge SET rowid = rowid - 1001")
    assert await titles_found("potholes") != ["Potholes in Ghent"]  # the stale index now points elsewhere

    assert await rebuild_search_index() == 2
    assert await titles_found("potholes") == ["Potholes in Ghent"]
    assert await titles_found("benches") == ["Benches in Leuven"]


async def test_vacuum_and_rebuild_together():
    if is_postgres():
        assert await vacuum_and_rebuild() is None
        return
    team = await make_buyer_team()
    gone = await make_challenge(team.org, title="Gone before the vacuum")
    await make_challenge(team.org, title="Potholes in Ghent")
    await Challenge.delete().where(Challenge.id == gone.id)
    assert await vacuum_and_rebuild() == 1
    assert await titles_found("potholes") == ["Potholes in Ghent"]


def test_the_command_line_offers_search_rebuild():
    args = build_parser().parse_args(["search", "rebuild", "--vacuum"])
    assert args.func is cmd_search_rebuild and args.vacuum
    assert not build_parser().parse_args(["search", "rebuild"]).vacuum
    with pytest.raises(SystemExit):
        build_parser().parse_args(["search"])
