from marketplace.experiments import storage
from marketplace.experiments.notices import flag_overdue_milestones
from marketplace.experiments.tables import DeliverableFile


async def stored_deliverable_files() -> set[str]:
    return {r["storage_name"] for r in await DeliverableFile.select(DeliverableFile.storage_name)}


JOBS = [flag_overdue_milestones, storage.sweep_job("deliverables", stored_deliverable_files)]
