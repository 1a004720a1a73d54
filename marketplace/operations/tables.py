"""The background workers' heartbeats: the database is shared by every app instance, so readiness reads them here."""

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class WorkerHeartbeat(Table):
    """One row per running worker (`host:pid`), stamped after its rounds."""

    worker = Varchar(length=200, unique=True)
    started_at = Timestamptz(default=TimestamptzNow())
    beat_at = Timestamptz(default=TimestamptzNow(), index=True)
