"""Open data exports, kept in the database so that every app instance serves the same file."""

from piccolo.columns import UUID, BigInt, Bytea, Timestamptz, Varchar
from piccolo.table import Table


class OpenDataExport(Table):
    """One bulk file (e.g. `ocds-releases.json.gz`), replaced whole each time it is rebuilt."""

    id = UUID(primary_key=True)
    name = Varchar(length=60, unique=True)
    media_type = Varchar(length=60)
    content = Bytea()
    sha256 = Varchar(length=64)
    size_bytes = BigInt()
    releases = BigInt(default=0)
    built_at = Timestamptz()
