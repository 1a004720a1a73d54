"""When an award waits for a standstill period, and what a person reads when it does not.

The standstill lets the other tenderers read the reasons and challenge the award before the contract
is concluded. Where the successful tenderer is the only one concerned, no one is left to challenge
it, and the law lets the contract be concluded at once (Directive 89/665/EEC as amended by
2007/66/EC, art. 2b(b); Belgian law of 17 June 2013, art. 11). Here that is a stage at which no other
company submitted a proposal (withdrawn ones do not count). Otherwise the standstill runs
`MARKETPLACE_STANDSTILL_DAYS` days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from marketplace.core.clock import now
from marketplace.core.i18n import N_
from marketplace.proposals.tables import Proposal, ProposalStage
from marketplace.settings import get_settings

SINGLE_BIDDER = "single_bidder"

# Why an award has no standstill (`Award.standstill_reason`), in words: the award page, the API, the letters
# and e-mails translate it into their reader's language.
NO_STANDSTILL = {
    SINGLE_BIDDER: N_("No standstill period: no other company submitted a proposal at this stage, so no one is left "
                      "to object. As the law allows (Belgian law of 17 June 2013, art. 11; Directive 89/665/EEC, "
                      "art. 2b), the test contract is issued at once and both parties can sign it now."),
}


async def other_bidders(challenge_id: Any, stage_key: str, awardee_id: Any) -> int:
    """How many other proposals were submitted at the stage and not withdrawn: the tenderers concerned."""
    return await ProposalStage.count().where(
        (ProposalStage.stage == stage_key) & (ProposalStage.version > 0) & (ProposalStage.proposal != awardee_id)
        & (ProposalStage.proposal.challenge == challenge_id) & (ProposalStage.proposal.status != Proposal.Status.withdrawn))


def reason_for(others: int) -> str:
    """The award's `standstill_reason`: "" when the standstill runs, else why it does not."""
    return SINGLE_BIDDER if others == 0 else ""


def planned_start(moment: datetime | None = None, reason: str = "") -> tuple[datetime, date]:
    """(end of the standstill, the experiment's first day) for an award made at `moment` (default: now);
    with a `reason` for no standstill, it ends at once."""
    moment = moment or now()
    standstill_ends_at = moment if reason else moment + timedelta(days=get_settings().standstill_days)
    return standstill_ends_at, (standstill_ends_at + timedelta(days=1)).date()
