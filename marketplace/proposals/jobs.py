from marketplace.experiments import storage
from marketplace.proposals.attachments import FOLDER
from marketplace.proposals.lifecycle import advance_stage_deadlines
from marketplace.proposals.tables import ProposalAttachment


async def stored_attachments() -> set[str]:
    return {r["stored_name"] for r in await ProposalAttachment.select(ProposalAttachment.stored_name)}


JOBS = [advance_stage_deadlines, storage.sweep_job(FOLDER, stored_attachments)]
