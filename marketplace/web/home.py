"""The home page's "what awaits you": for each role the signed-in person holds, the work waiting for them, each item
linking to the page where it is done. The domains answer (their public functions); this module only arranges.

One or two queries per section, none per item: the page is everyone's first stop after signing in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from marketplace.core import i18n
from marketplace.core.auth import Principal
from marketplace.core.i18n import N_, ngettext
from marketplace.core.templating import stage_name


@dataclass
class Item:
    """One thing to do: what, where it is done, and what helps choose what comes first."""

    text: str
    href: str
    count: int = 1  # how many things this line stands for (questions, proposals ...): the section adds them up
    note: str = ""
    deadline: datetime | None = None  # shown with the time left
    moment: datetime | None = None  # any other moment (asked, delivered, issued, due by)
    day: date | None = None  # a due date
    when_label: str = ""
    amount_cents: int | None = None
    currency: str = "EUR"


@dataclass
class Section:
    key: str  # the element id of its heading
    heading: str  # marked with N_, translated when shown
    more: str  # the page listing all of it
    empty: str
    items: list[Item] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(i.count for i in self.items)


@dataclass
class RoleWork:
    role: str
    label: str
    sections: list[Section]


PAYOUT_STATES = {"pending": N_("payout pending"), "waiting": N_("payout waiting"), "failed": N_("payout failed"), "paid": N_("paid")}


# --- per role -------------------------------------------------------------------------------------------------------


async def civil_servant(principal: Principal) -> list[Section]:
    """Questions to answer, proposals to decide, deliverables to review."""
    from marketplace.challenges.dialogue import unanswered_by_challenge
    from marketplace.experiments.services import milestones_to_review
    from marketplace.proposals.decisions import awaiting_decision

    bodies = principal.organisations("civil_servant")
    questions = [Item(r["title"], f"/challenges/{r['id']}/questions", r["count"],
                      ngettext("%(num)d question without an answer", "%(num)d questions without an answer", r["count"]),
                      moment=r["oldest"], when_label=i18n.gettext("first asked"))
                 for r in await unanswered_by_challenge(bodies)]
    decisions = [Item(f"{r['title']} ({stage_name(r['procedure_template'], r['stage'], r['procedure_version'])})",
                      f"/challenges/{r['id']}/board?stage={r['stage']}", r["count"] or 1,
                      ngettext("%(num)d proposal to decide with feedback", "%(num)d proposals to decide with feedback", r["count"])
                      if r["count"] else i18n.gettext("every proposal has its decision: close the stage to tell the companies"),
                      moment=r["closes_at"], when_label=i18n.gettext("stage closed"))
                 for r in await awaiting_decision(bodies)]
    reviews = [Item(f"{r['experiment_title']}: {r['title']}", f"/experiments/{r['experiment']}#milestone-{r['id']}",
                    moment=r["submitted_at"], when_label=i18n.gettext("delivered"), amount_cents=r["amount_cents"], currency=r["currency"])
               for r in await milestones_to_review(bodies)]
    return [
        Section("answer", N_("Questions to answer"), "/my/challenges", N_("No question waits for an answer."), questions),
        Section("decide", N_("Proposals awaiting your decision"), "/my/challenges", N_("No proposal waits for a decision."), decisions),
        Section("review", N_("Deliverables to review"), "/experiments", N_("No deliverable waits for a review."), reviews),
    ]


async def procurement_officer(principal: Principal) -> list[Section]:
    """Drafts to approve, proposals to award, awards in standstill, contracts to sign, payouts to make."""
    from marketplace.awards.services import in_standstill, ready_to_award
    from marketplace.challenges.approval import awaiting_approval

    bodies = principal.organisations("procurement_officer")
    approvals = [Item(r["title"] or i18n.gettext("Untitled draft"), f"/challenges/{r['id']}/publish",
                      note=i18n.gettext("requested by %(name)s", name=r["requested_by"] or "-"),
                      moment=r["approval_requested_at"], when_label=i18n.gettext("asked"))
                 for r in await awaiting_approval(principal)]
    awards = [Item(r["title"], f"/challenges/{r['id']}/award", note=i18n.gettext("a selected proposal waits for its test contract"))
              for r in await ready_to_award(bodies)]
    standstill = [Item(r["title"], f"/awards/{r['id']}", note=r["company"] + (" · " + ngettext(
        "%(num)d objection to answer", "%(num)d objections to answer", r["objections"]) if r["objections"] else ""),
        deadline=r["ends_at"], when_label=i18n.gettext("standstill ends"), amount_cents=r["amount_cents"], currency=r["currency"])
        for r in await in_standstill(bodies)]
    signatures = await _to_sign(bodies, "buyer")
    payouts = await _payouts(bodies, "buyer", i18n.gettext("to pay by"))
    return [
        Section("approve", N_("Drafts awaiting your approval"), "/my/challenges#awaiting", N_("No draft waits for your approval."), approvals),
        Section("award", N_("Ready to award"), "/contracts", N_("No selected proposal waits for an award."), awards),
        Section("standstill", N_("Awards in standstill"), "/contracts", N_("No award is in its standstill."), standstill),
        Section("sign-buyer", N_("Contracts to sign"), "/contracts", N_("No contract waits for your signature."), signatures),
        Section("pay", N_("Payouts to make"), "/payments", N_("No payout is open."), payouts),
    ]


async def _to_sign(organisation_ids: list[str], party: str) -> list[Item]:
    from marketplace.awards.contracts import awaiting_signature

    return [Item(f"{r['number']}: {r['title']}", f"/contracts/{r['id']}", moment=r["issued_at"], when_label=i18n.gettext("issued"))
            for r in await awaiting_signature(organisation_ids, party)]


async def _payouts(organisation_ids: list[str], side: str, when_label: str) -> list[Item]:
    from marketplace.payments.payouts import unpaid_payouts

    return [Item(f"{r['counterpart']}: {r['milestone_title']}", "/payments", note=i18n.gettext(PAYOUT_STATES[r["status"]]),
                 moment=r["due_by"], when_label=when_label, amount_cents=r["amount_cents"], currency=r["currency"])
            for r in await unpaid_payouts(organisation_ids, side)]


async def evaluator(principal: Principal) -> list[Section]:
    """Declarations to make and proposals left to score."""
    from marketplace.evaluation.services import left_to_score

    items = []
    for r in await left_to_score(principal.user_id):
        if r["action"] == "declare":
            items.append(Item(r["title"], f"/challenges/{r['id']}/declaration",
                              note=i18n.gettext("declare your conflicts of interest first")))
        else:
            items.append(Item(r["title"], f"/challenges/{r['id']}/board?stage={r['stage']}", r["count"],
                              ngettext("%(num)d of %(total)d proposal left to score", "%(num)d of %(total)d proposals left to score",
                                 r["count"], total=r["total"])))
    return [Section("score", N_("Left to score"), "/evaluations", N_("Nothing is left to score."), items)]


async def company_member(principal: Principal) -> list[Section]:
    """Drafts and their deadlines, contracts to sign, milestones to deliver, payouts coming."""
    from marketplace.experiments.services import milestones_to_deliver
    from marketplace.proposals.services import open_stage_work

    companies = principal.organisations("company_member")
    drafts = [Item(r["title"], f"/proposals/{r['id']}",
                   note=i18n.gettext("submitted; you may still change it") if r["submitted"] else i18n.gettext("draft, not submitted"),
                   deadline=r["closes_at"], when_label=i18n.gettext("closes"))
              for r in await open_stage_work(companies)]
    signatures = await _to_sign(companies, "company")
    milestones = [Item(f"{r['experiment_title']}: {r['title']}", f"/experiments/{r['experiment']}#milestone-{r['id']}",
                       note=i18n.gettext("changes requested") if r["status"] == "changes_requested" else "",
                       day=r["due_date"], when_label=i18n.gettext("due"), amount_cents=r["amount_cents"], currency=r["currency"])
                  for r in await milestones_to_deliver(companies)]
    payouts = await _payouts(companies, "company", i18n.gettext("paid by"))
    return [
        Section("drafts", N_("Proposals and deadlines"), "/proposals", N_("No proposal has an open stage."), drafts),
        Section("sign-company", N_("Contracts to sign"), "/contracts", N_("No contract waits for your signature."), signatures),
        Section("deliver", N_("Milestones to deliver"), "/experiments", N_("No milestone waits for a deliverable."), milestones),
        Section("payouts", N_("Payouts coming"), "/payments", N_("No payout is on its way."), payouts),
    ]


PIPELINE_ORDER = ("draft", "submitted", "advanced", "selected", "awarded", "rejected", "withdrawn")


async def incubator_member(principal: Principal) -> list[Section]:
    """The portfolio's pipeline: per consenting company, its proposals by status."""
    from marketplace.accounts.services import consenting_companies
    from marketplace.proposals.services import pipeline

    items = []
    for r in await pipeline(await consenting_companies(principal.organisations("incubator_member"))):
        counts = r["counts"]
        items.append(Item(r["name"], "/proposals", sum(counts.values()),
                          " · ".join(f"{i18n.gettext(status)}: {counts[status]}" for status in PIPELINE_ORDER if counts.get(status))))
    return [Section("pipeline", N_("Portfolio pipeline"), "/proposals", N_("No portfolio company has a proposal yet."), items)]


ROLES = {
    "civil_servant": (N_("Civil servant"), civil_servant),
    "procurement_officer": (N_("Procurement officer"), procurement_officer),
    "evaluator": (N_("Evaluator"), evaluator),
    "company_member": (N_("Company member"), company_member),
    "incubator_member": (N_("Incubator member"), incubator_member),
}


async def work_for(principal: Principal) -> list[RoleWork]:
    """What awaits this person, one block per role they hold (in a fixed order)."""
    out = []
    for role, (label, build) in ROLES.items():
        if principal.has_role(role):
            out.append(RoleWork(role, label, await build(principal)))
    return out
