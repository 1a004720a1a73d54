from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Varchar
from piccolo.table import Table

ID = "2026-12-01T21:24:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal the audit events written before MACs existed (their hashes do not change)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="transparency", description=DESCRIPTION)

    async def seal_existing_events():
        from marketplace.transparency.audit import chain_mac

        class Sealed(Table, tablename="audit_event"):
            id = UUID(primary_key=True)
            hash = Varchar(length=64)
            mac = Varchar(length=64, default="")

        for row in await Sealed.select(Sealed.id, Sealed.hash).where(Sealed.mac == ""):
            await Sealed.update({Sealed.mac: chain_mac(row["hash"])}).where(Sealed.id == row["id"])

    manager.add_raw(seal_existing_events)
    return manager
