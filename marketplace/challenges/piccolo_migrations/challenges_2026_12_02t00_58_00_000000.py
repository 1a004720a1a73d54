"""The catalogue's vocabulary for forgiving typos: an index to find a mistyped word's trigrams (with the word's
own number of trigrams, so that words of a very different length are skipped), filled from the public challenges."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-02T00:58:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search vocabulary index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="challenges", description=DESCRIPTION)

    async def create_index():
        from marketplace.challenges.search_index import rebuild_vocabulary
        from marketplace.core.db import engine

        await engine().run_ddl("CREATE INDEX IF NOT EXISTS search_trigram_lookup ON search_trigram (trigram, size, word)")
        await rebuild_vocabulary()

    manager.add_raw(create_index)
    return manager
