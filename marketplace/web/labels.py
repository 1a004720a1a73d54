"""The labels people see next to form fields, by field name: error messages name a field by its label.

The same msgids as the pages' labels, so one translation serves both. A form whose label differs
passes its own to `errors_by_field(exc, labels=...)`.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a label for the catalogues; it is translated when an error is shown."""
    return message


FIELD_LABELS: dict[str, str] = {
    # accounts
    "email": _("E-mail address"),
    "password": _("Password"),
    "name": _("Name"),
    "org_name": _("Organisation name"),
    "organisation.name": _("Organisation name"),
    "country": _("Country"),
    "enterprise_number": _("Enterprise number"),
    "size": _("Size"),
    "kind": _("It is"),
    "role": _("Role"),
    "budget_ceiling": _("Test budget ceiling in euros, excl. VAT (optional)"),
    "ceiling_euros": _("Test budget ceiling in euros, excl. VAT (optional)"),
    # challenges
    "title": _("Title"),
    "summary": _("Summary"),
    "problem": _("The problem"),
    "affected_users": _("Who is affected"),
    "tried_before": _("What was tried before"),
    "desired_outcomes": _("Desired outcomes"),
    "constraints": _("Constraints"),
    "topics": _("Topics"),
    "cpv_codes": _("CPV codes"),
    "budget_cap": _("Test budget cap (EUR, excl. VAT)"),
    "max_duration_days": _("Longest experiment (days)"),
    "procedure": _("Procedure"),
    "schedule": _("Deadlines (Brussels time)"),
    "qa_closes_at": _("Questions close"),
    "publish_at": _("Publish on (Brussels time)"),
    "change_note": _("What changed and why"),
    # proposals, awards, experiments
    "price": _("Price excluding VAT, in euros"),
    "proposal_id": _("Proposal"),
    "language": _("Language of the contract"),
    "feedback": _("Feedback"),
    "decision": _("Decision"),
    "result": _("Result"),
    "learnings": _("Learnings"),
    "follow_on": _("Follow-on"),
}


def label_for(field: str, labels: dict[str, str] | None = None) -> str | None:
    """The (untranslated) label of `field`: the form's own, else the shared one, else none."""
    for table in (labels or {}, FIELD_LABELS):
        for key in (field, field.rsplit(".", 1)[-1], field.split(".", 1)[0]):
            if key in table:
                return table[key]
    return None
