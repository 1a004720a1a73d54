"""A proposal's timeline: what happened, and what happens next and when (Decidim's accountability idea)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marketplace.core.clock import as_utc, rfc3339
from marketplace.core.i18n import gettext as _
from marketplace.procedures.engine import ProcedureTemplate
from marketplace.proposals import access
from marketplace.proposals.schemas import TimelineEntry


def build_timeline(proposal: dict[str, Any], template: ProcedureTemplate, copies: dict[str, dict], versions: dict[str, list[dict]],
                   decisions: dict[str, dict], stages: dict[str, dict], viewer: access.Viewer,
                   moment: datetime) -> tuple[list[TimelineEntry], TimelineEntry | None]:
    entries = [TimelineEntry(at=rfc3339(proposal["created_at"]), kind="started", text=_("Proposal started"))]
    for spec in template.stages:
        key, row = spec.key, stages.get(spec.key)
        for v in versions.get(key, []):
            entries.append(TimelineEntry(at=rfc3339(v["submitted_at"]), kind="submitted", stage=key,
                                         text=_("'%(stage)s' submitted (version %(version)s)", stage=spec.name, version=v["version"])))
        if row is not None and key in copies and as_utc(row["closes_at"]) <= moment:
            entries.append(TimelineEntry(at=rfc3339(row["closes_at"]), kind="deadline", stage=key,
                                         text=_("Deadline of '%(stage)s'", stage=spec.name)))
        d = decisions.get(key)
        if d is not None and (viewer.kind != access.TEAM or d["notified_at"] is not None):
            text = _("Advanced past '%(stage)s'", stage=spec.name) if d["outcome"] == "advance" else _("Not selected at '%(stage)s'", stage=spec.name)
            entries.append(TimelineEntry(at=rfc3339(d["notified_at"] or d["decided_at"]), kind=f"decision_{d['outcome']}", stage=key,
                                         text=f"{text}. {_('Feedback')}: {d['feedback']}"))
    if proposal["withdrawn_at"] is not None:
        entries.append(TimelineEntry(at=rfc3339(proposal["withdrawn_at"]), kind="withdrawn", text=_("Proposal withdrawn")))
    entries.sort(key=lambda e: e.at or "")
    return entries, next_step(proposal, template, copies, stages, moment)


def next_step(proposal: dict[str, Any], template: ProcedureTemplate, copies: dict[str, dict], stages: dict[str, dict],
              moment: datetime) -> TimelineEntry | None:
    """What happens next, and when; None once the story has ended."""
    status = proposal["status"]
    if status in ("withdrawn", "rejected"):
        return None
    row = stages.get(proposal["current_stage"])
    if row is not None and row["status"] == "pending" and status == "awarded":  # a paid stage's contract comes before this stage opens
        from marketplace.proposals.lifecycle import paid_stage_before

        paid = paid_stage_before(template, proposal["current_stage"])
        if paid is not None:
            return TimelineEntry(at=None, kind="contract", stage=proposal["current_stage"], done=False, text=_(
                "Your contract of '%(paid)s' comes first: '%(stage)s' opens to its contractors once their milestones are accepted.",
                paid=paid.name, stage=template.stage(proposal["current_stage"]).name))
    if status == "awarded" and template.next_stage(proposal["current_stage"]) is None and (row is None or row["status"] == "decided"):
        return TimelineEntry(at=None, kind="contract", text=_("Awarded: the test contract follows."), done=False)
    key = proposal["current_stage"]
    spec, row, copy = template.stage(key), stages.get(key), copies.get(key)
    if row is None:
        return None
    opens, closes = as_utc(row["opens_at"]), as_utc(row["closes_at"])
    if status == "selected" and row["status"] != "open":
        return TimelineEntry(at=None, kind="award", stage=key, done=False,
                             text=_("Selected: a procurement officer will award the contract."))
    if row["status"] == "pending" or moment < opens:
        return TimelineEntry(at=rfc3339(opens), kind="stage_opens", stage=key, done=False,
                             text=_("'%(stage)s' opens", stage=spec.name))
    if moment < closes:
        if copy is None or copy["version"] == 0:
            text = _("Submit '%(stage)s' before the deadline", stage=spec.name)
        elif copy["status"] == "draft":
            text = _("You changed '%(stage)s' since you submitted it: submit again before the deadline", stage=spec.name)
        else:
            text = _("'%(stage)s' is submitted; you may edit and resubmit it until the deadline", stage=spec.name)
        return TimelineEntry(at=rfc3339(closes), kind="deadline", stage=key, text=text, done=False)
    if copy is None or copy["version"] == 0:
        return None  # missed the deadline
    return TimelineEntry(at=None, kind="evaluation", stage=key, done=False,
                         text=_("The buyer evaluates '%(stage)s'; you will receive the decision with written feedback.", stage=spec.name))
