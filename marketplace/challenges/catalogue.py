"""The public catalogue: search, filters, sort and cursor pagination; versions of a challenge."""

from __future__ import annotations

import json
from typing import Any

from marketplace.challenges import schemas
from marketplace.challenges.services import visible_row
from marketplace.challenges.tables import ChallengeVersion
from marketplace.core.auth import Principal
from marketplace.core.clock import rfc3339


async def versions(principal: Principal | None, challenge_id: Any) -> schemas.VersionList:
    """Every published version, oldest first, with its change note."""
    row = await visible_row(principal, challenge_id)
    rows = await ChallengeVersion.select().where(ChallengeVersion.challenge == row["id"]).order_by(ChallengeVersion.version)
    return schemas.VersionList(items=[
        schemas.VersionOut(version=r["version"], change_note=r["change_note"], created_at=rfc3339(r["created_at"]) or "",
                           snapshot=json.loads(r["snapshot"]))
        for r in rows
    ])
