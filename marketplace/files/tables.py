"""File bytes kept in the database (MARKETPLACE_FILE_STORAGE=database), so that every app instance sees them."""

from piccolo.columns import Bytea, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class StoredFile(Table, tablename="stored_file"):
    """The bytes of one file, by `folder/name` (the same key the local backend uses as a path under the upload
    directory). Written once: a new version of something is a new name (documents are named by their SHA-256)."""

    key = Varchar(length=400, primary_key=True)
    folder = Varchar(length=40, index=True)
    size = Integer(default=0)
    content = Bytea()
    created_at = Timestamptz(default=TimestamptzNow())
