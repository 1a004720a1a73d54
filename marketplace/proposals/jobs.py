from marketplace.proposals.lifecycle import advance_stage_deadlines

JOBS = [advance_stage_deadlines]
