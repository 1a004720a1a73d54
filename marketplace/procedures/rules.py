"""What a procedure template's stage allows and how it is decided: the one place where declared
features become permissions (`allowed`, `require`), for the API and the pages alike, and where
decision kinds get their meaning (`advance_cap`, `decision_rule`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from marketplace.core.clock import as_utc
from marketplace.core.errors import Conflict, FieldError

if TYPE_CHECKING:
    from marketplace.procedures.engine import ProcedureTemplate, StageSpec


# Decisions: how a stage is decided ---------------------------------------------------------------------


def advance_cap(stage: StageSpec) -> int | None:
    """How many proposals may advance (or be selected) at this stage; None: no cap.
    `shortlist`: `max_selected`; `pass_fail`: every proposal that meets the bar; `award`: `max_selected` if set."""
    return None if stage.decision in ("pass_fail", "continue") else stage.max_selected


def decision_rule(stage: StageSpec) -> str:
    """The stage's decision kind in a sentence, in the current language (decision forms and the API)."""
    from marketplace.core.i18n import gettext as _

    cap = advance_cap(stage)
    if stage.decision == "shortlist":
        text = _("Shortlist: at most %(n)s proposals advance, the best ranked first.", n=cap)
    elif stage.decision == "pass_fail":
        text = _("Pass or fail: every proposal that meets the bar advances; there is no limit.")
    elif stage.decision == "continue":
        text = _("Continue: at the deadline every team that submitted this step moves on to the next; no decision is taken.")
    elif cap:
        text = _("Award: the proposals you advance are selected for a contract (at most %(n)s).", n=cap)
    else:
        text = _("Award: the proposals you advance are selected for a contract.")
    if stage.paid:
        text += " " + _("Each selected proposal receives a paid contract; the next stage opens only to them.")
    return text


# Stage features: what may happen while a stage is open ---------------------------------------------

ACTION_FEATURES = {
    "ask_question": "questions",        # a company asks the buyer a question
    "edit_submission": "edits",         # change (save, upload, resubmit) a stage already submitted
    "upload_document": "documents",     # upload one of the stage's documents
    "schedule_pitch": "pitch",          # the buyer proposes pitch slots; a team picks one
    "edit_team": "team",                # the team names its members (name, organisation, kind, country)
}


def feature_of(action: str) -> str:
    try:
        return ACTION_FEATURES[action]
    except KeyError:
        raise ValueError(f"unknown action {action!r} (known: {', '.join(sorted(ACTION_FEATURES))})") from None


def allowed(template: ProcedureTemplate, stage_key: str | None, action: str) -> bool:
    """May `action` happen while `stage_key` is the open stage (None: no stage is open)? The one
    place where a stage's declared features become permissions, for the API and the pages alike."""
    feature = feature_of(action)
    return stage_key is not None and feature in template.stage(stage_key).features


def feature_label(feature: str) -> str:
    """A feature's name for a person, in the current language."""
    from marketplace.core.i18n import gettext as _

    return {"questions": _("questions to the buyer"), "edits": _("changes to a submitted stage"),
            "documents": _("document uploads"), "pitch": _("pitch scheduling"), "team": _("changes to the team's members")}[feature]


class FeatureOff(Conflict):
    """409: the stage open now (or no stage at all) does not allow this action. Names the stage and the feature."""

    def __init__(self, template: ProcedureTemplate, stage_key: str | None, action: str) -> None:
        from marketplace.core.i18n import gettext as _

        self.stage, self.feature = stage_key, feature_of(action)
        if stage_key is None:
            super().__init__(_("No stage of this procedure is open now: there can be no %(feature)s.",
                               feature=feature_label(self.feature)),
                             [FieldError("stage", f"no stage is open, so `{self.feature}` is off")])
        else:
            super().__init__(_("The stage '%(stage)s' does not allow %(feature)s.", stage=template.stage(stage_key).name,
                               feature=feature_label(self.feature)),
                             [FieldError(f"stages.{stage_key}.features", f"does not include `{self.feature}`")])


def require(template: ProcedureTemplate, stage_key: str | None, action: str) -> None:
    """Refuse (409, naming the stage and the feature) an action the open stage does not allow."""
    if not allowed(template, stage_key, action):
        raise FeatureOff(template, stage_key, action)


def open_stage_key(stages: Iterable[Mapping[str, Any]], moment: datetime) -> str | None:
    """The stage accepting work at `moment` (status `open` and `opens_at <= moment < closes_at`), from a
    challenge's stage rows; None between stages, before the first and after the last."""
    for s in stages:
        if s["status"] == "open" and as_utc(s["opens_at"]) <= moment < as_utc(s["closes_at"]):
            return s["key"]
    return None
