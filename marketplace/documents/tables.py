"""Generated documents (contracts, letters, briefs, statements): evidence that never changes."""

from piccolo.columns import UUID, BigInt, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Document(Table):
    """One rendered PDF. Rows are only ever inserted: a changed document is a new `version`
    of the same (kind, subject_type, subject_id, language)."""

    id = UUID(primary_key=True)
    kind = Varchar(length=40, index=True)  # "contract", "challenge_brief", "award_letter", ...
    version = Integer(default=1)
    subject_type = Varchar(length=40)  # "contract", "challenge", "proposal", "payout", ...
    subject_id = Varchar(length=64, index=True)
    language = Varchar(length=5, default="en")
    sha256 = Varchar(length=64, index=True)
    size_bytes = BigInt(default=0)
    path = Varchar(length=300)  # relative to the documents directory (content-addressed)
    media_type = Varchar(length=150, default="application/pdf")  # uploads kept as evidence have long office types
    created_at = Timestamptz(default=TimestamptzNow())
