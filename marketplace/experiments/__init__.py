"""Experiments: the paid test of an idea, its milestones, deliverables and outcome."""
