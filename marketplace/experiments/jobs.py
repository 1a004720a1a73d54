from marketplace.experiments.notices import flag_overdue_milestones

JOBS = [flag_overdue_milestones]
