"""The audit trail's background work: link recorded events into the chain, publish checkpoints."""

from marketplace.transparency.anchor import write_checkpoint_when_due
from marketplace.transparency.audit import chain_pending


async def chain_recorded_events() -> int:
    """Every round: link the events committed since into the hash chain."""
    return await chain_pending()


JOBS = [chain_recorded_events, write_checkpoint_when_due]
