"""Self-checks of public bodies: every answered questionnaire is kept, so progress shows over time."""

from piccolo.columns import UUID, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from marketplace.accounts.tables import Organisation, User


class SelfCheck(Table):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    questionnaire = Varchar(length=40, index=True)
    version = Integer(default=1)
    subject = Varchar(length=200, default="")  # the candidate service (the service questionnaire)
    answers = Text(default="{}")  # JSON {question key: 1-5}
    scores = Text(default="{}")  # JSON {dimension key: 0-100}
    total = Integer(default=0)
    answered_by = ForeignKey(references=User, null=True)
    answered_at = Timestamptz(default=TimestamptzNow(), index=True)
