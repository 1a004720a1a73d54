"""What keeps the busy routes near the framework's floor (issue #12), checked without timing anything: how many
queries a request runs, and the query plans the catalogue relies on (PostgreSQL). The numbers themselves are in
benchmarks/README.md (`make bench`)."""

import json
import re
import uuid

import pytest

from marketplace.accounts.tables import Membership
from marketplace.challenges import catalogue
from marketplace.challenges.tables import Challenge
from marketplace.core.db import engine, is_postgres, transaction
from tests.factories_challenges import make_challenge
from tests.querycount import counted


def _plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += _plan_nodes(child)
    return nodes


async def _explain(sql: str, args: list, bitmaps: bool = False, nested_loops: bool = True) -> list[dict]:
    """EXPLAIN ANALYZE of one statement, with sequential scans and sorts discouraged so that the plan shows
    whether an index can serve the order by itself (what it does on 100,000 challenges)."""
    async with transaction():
        await Challenge.raw("SET LOCAL enable_seqscan = off")
        await Challenge.raw("SET LOCAL enable_sort = off")
        if not bitmaps:
            await Challenge.raw("SET LOCAL enable_bitmapscan = off")
        if not nested_loops:  # a tiny table is best read from its other side; at size, each side by its index
            await Challenge.raw("SET LOCAL enable_nestloop = off")
        rows = await Challenge.raw("EXPLAIN (ANALYZE, FORMAT JSON) " + re.sub(r"\$\d+", "{}", sql), *args)
    plan = rows[0]["QUERY PLAN"]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return _plan_nodes(plan[0]["Plan"])


async def test_a_catalogue_page_is_one_query_buyer_names_included():
    buyer = None
    for i in range(3):
        challenge = await make_challenge(buyer, title=f"Pothole number {i}")
        buyer = buyer or await _buyer_of(challenge)
    async with counted() as queries:
        page = await catalogue.search(catalogue.CatalogueQuery())
    assert [item.buyer.name for item in page.items] == [buyer.name] * 3
    assert len(queries) == 1, queries


async def _buyer_of(challenge):
    from marketplace.accounts.tables import Organisation

    return await Organisation.objects().where(Organisation.id == challenge.buyer).first()


async def test_newest_first_starts_at_the_newest_publication_instead_of_walking_past_the_drafts():
    """PostgreSQL sorts NULLs first in descending order: without the published condition the newest-first walk of
    (published_at, id) read every draft (no published_at) before the first published challenge (8.3 ms instead
    of 0.09 ms on 100,000 challenges)."""
    if not is_postgres():
        pytest.skip("SQLite puts NULLs last in descending order")
    newest = await make_challenge(title="Newest")
    await Challenge.insert(*[Challenge(id=uuid.uuid4(), buyer=newest.buyer, status="draft", title=f"Draft {i}")
                             for i in range(300)])
    await engine().run_ddl("ANALYZE challenge")
    async with counted() as queries:
        await catalogue.search(catalogue.CatalogueQuery())
    sql, args = queries[0]
    scans = [n for n in await _explain(sql, args) if n.get("Relation Name") == "challenge"]
    assert scans and scans[0]["Node Type"].startswith("Index"), scans
    read = sum(n["Actual Rows"] + n.get("Rows Removed by Filter", 0) for n in scans)
    assert read < 10, f"the walk read {read} challenges to find 1: {scans}"


def test_every_guard_runs_on_the_event_loop_not_in_a_thread(app):
    """Litestar runs a synchronous guard through a worker thread on every request (5-15 % of a request)."""
    import inspect

    handlers = [h for route in app.routes for h in getattr(route, "route_handlers", [])]
    assert handlers
    for handler in handlers:
        for guard in handler.resolve_guards():
            assert inspect.iscoroutinefunction(guard), f"{handler}: {guard} is synchronous"


async def test_a_pooled_query_does_not_reset_the_session_afterwards(monkeypatch):
    """asyncpg's default reset costs a round trip after every query (Piccolo takes a connection per query)."""
    if not is_postgres():
        pytest.skip("SQLite has no pool")
    import asyncpg

    resets = []
    original = asyncpg.connection.Connection.reset

    async def reset(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        resets.append(1)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(asyncpg.connection.Connection, "reset", reset)
    await Challenge.count()
    async with transaction():
        await Challenge.count()
    assert resets == []


async def test_the_catalogue_page_formats_money_and_dates_without_parsing_a_locale_per_value(client, monkeypatch):
    """Babel parses a locale given by name (and format_datetime a time zone) on every call: over half of the
    catalogue page's time went into formatting twenty budgets and deadlines."""
    from babel import Locale

    for i in range(3):
        await make_challenge(title=f"Bridge inspection {i}", budget_cap_cents=2_500_000 + i)
    assert (await client.get("/challenges", headers={"accept-language": "fr"})).status_code == 200  # warm
    parsed = []
    original = Locale.parse.__func__

    def parse(cls, identifier, *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(identifier, str):
            parsed.append(identifier)
        return original(cls, identifier, *args, **kwargs)

    monkeypatch.setattr(Locale, "parse", classmethod(parse))
    response = await client.get("/challenges", headers={"accept-language": "fr"})
    assert response.status_code == 200 and "25\u202f000,02" in response.text.replace("\xa0", "\u202f")
    assert parsed == []


async def test_a_challenge_reads_its_row_once_with_the_buyer_name(client):
    """The API item ran 4 queries and the page 6 (the challenge twice, the buyer apart): now 3 and 5 (the page read
    the stages twice, for the timeline and for what the stage open now allows)."""
    challenge = await make_challenge(title="Quiet trams")
    async with counted() as queries:
        response = await client.get(f"/api/v1/challenges/{challenge.id}")
    assert response.status_code == 200 and response.json()["buyer"]["name"]
    assert len(queries) == 3, queries  # the challenge with its buyer, its stages, its co-sponsors
    async with counted() as queries:
        response = await client.get(f"/challenges/{challenge.id}")
    assert response.status_code == 200 and "Quiet trams" in response.text
    # ... its answered questions and its documents (every version, one query)
    assert len(queries) == 5, queries


async def test_saving_and_submitting_a_stage_reads_each_row_once(client):
    """A save-and-submit ran 43 queries (the stages read four times, the challenge twice): the deadline rush
    is bounded by them."""
    from marketplace.procedures import engine as procedures
    from tests.factories import make_org, make_user, token_for
    from tests.factories_proposals import make_open_challenge, make_proposal, valid_answers

    challenge = await make_open_challenge()
    company = await make_org("company")
    member = await make_user("company_member", org=company)
    proposal = await make_proposal(challenge, company)
    headers = await token_for(member)
    spec = procedures.latest("light").stages[0]
    base = f"/api/v1/proposals/{proposal.id}/stages/{spec.key}"
    async with counted() as saving:
        response = await client.put(base, json={"answers": valid_answers(spec)}, headers=headers)
    assert response.status_code == 200, response.text
    async with counted() as submitting:
        response = await client.post(f"{base}/submit", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["stages"][0]["version"] == 1
    # 3 to authenticate; the proposal, the challenge, its stages and the working copy once; the writes; the answer
    # read from what was loaded (copies, versions, decisions, company). Was 21 + 22.
    # submitting: + the audit event, + the database's clock stamping the submission in time (tests/test_proposals_deadline.py),
    # + the submission receipt (its hash and the company's members to tell)
    assert (len(saving), len(submitting)) == (13, 18), "\n".join(q[0][:120] for q in saving + submitting)


async def test_the_worker_drains_a_backlog_without_waiting_between_rounds():
    """The worker slept its interval after every round, so a backlog went one batch (20 payouts) per 2 s."""
    import asyncio

    from marketplace.worker import run_forever

    backlog = [20, 20, 20, 7]
    stop = asyncio.Event()

    async def pay_a_batch() -> int:
        if not backlog:
            stop.set()
            return 0
        return backlog.pop(0)

    # An hour between idle rounds: only a worker that goes on at once after a busy round finishes in time.
    await asyncio.wait_for(run_forever(3600, stop, jobs=[pay_a_batch]), timeout=30)
    assert backlog == []


async def test_a_request_without_forms_writes_no_csrf_cookie_and_draws_no_uuid(client, monkeypatch):
    """The CSRF cookie was written on every response and the request id drawn from the system's random source
    (together with the log line, a quarter of a request without database)."""
    import uuid as uuid_module

    drawn = []
    original = uuid_module.uuid4
    monkeypatch.setattr(uuid_module, "uuid4", lambda: drawn.append(1) or original())
    first, second = await client.get("/favicon.ico"), await client.get("/favicon.ico")
    assert first.status_code == 200 and "set-cookie" not in first.headers
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert drawn == []


async def test_the_worker_finds_due_stages_through_indexes_not_by_reading_every_stage():
    """Each worker round asked which stages are due by reading every stage and every challenge (0.5-0.9 s per
    round on 100,000 challenges), so an accepted milestone waited that long more to be paid."""
    if not is_postgres():
        pytest.skip("the plan is PostgreSQL's")
    from marketplace.proposals import lifecycle

    await make_challenge(title="Due soon")
    async with counted() as queries:
        await lifecycle.advance_stage_deadlines()
    sql, args = queries[0]
    assert "challenge_stage" in sql
    used = {n.get("Index Name") for n in await _explain(sql, args, bitmaps=True, nested_loops=False)}
    assert {"challenge_stage_open_due", "challenge_stage_pending_due"} <= used, used


async def _busy_home_world(body, company, incubator) -> None:
    """Work waiting for every role of `body`, `company` and `incubator`'s portfolio: each home section has an item,
    so that every query of the home page runs (called twice: a second round of work must add no query)."""
    from datetime import timedelta

    from marketplace.accounts.tables import PortfolioLink
    from marketplace.awards.tables import Award, Contract, Objection
    from marketplace.challenges.tables import Question
    from marketplace.core.clock import now
    from marketplace.evaluation.tables import Declaration, EvaluatorAssignment
    from marketplace.experiments.tables import Milestone
    from marketplace.payments.tables import Payout
    from tests.factories_challenges import make_draft
    from tests.factories_payments import make_experiment
    from tests.factories_proposals import make_open_challenge, make_proposal

    day = timedelta(days=1)
    asked = await make_challenge(body)
    await Question.insert(Question(challenge=asked.id, text="Which hours?", asked_at=now()))
    closed = await make_open_challenge(body, start=now() - 40 * day)
    proposal = await make_proposal(closed, status="submitted")
    for evaluator in await Membership.select(Membership.user).where((Membership.organisation == body.id) & (Membership.role == "evaluator")):
        await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=closed.id, evaluator=evaluator["user"]))
        await Declaration.insert(Declaration(challenge=closed.id, evaluator=evaluator["user"]))
    await make_draft(body, approval_requested_at=now())
    await make_proposal(closed, status="selected")
    award = Award(challenge=closed.id, proposal=proposal.id, company=company.id, buyer=body.id, amount_cents=1_000_000,
                  standstill_ends_at=now() + 5 * day, starts_on=now().date())
    await award.save()
    await Objection.insert(Objection(award=award.id, company=company.id, text="Why not us?"))
    await Contract.insert(Contract(award=award.id, challenge=closed.id, buyer=body.id, company=company.id, number=f"C-{uuid.uuid4().hex[:8]}",
                                   status="issued", issued_at=now()))
    experiment_id, *_ = await make_experiment(buyer_org=body, company_org=company)
    first, _second = await Milestone.select().where(Milestone.experiment == experiment_id).order_by(Milestone.position)
    await Milestone.update({Milestone.status: "submitted", Milestone.submitted_at: now()}).where(Milestone.id == first["id"])
    await Payout.insert(Payout(milestone=first["id"], experiment=experiment_id, company=company.id, buyer=body.id, amount_cents=500_000,
                               idempotency_key=f"budget-{first['id']}", transfer_group="g", accepted_at=now(), due_by=now() + 30 * day))
    await make_proposal(await make_open_challenge(), company)
    if not await PortfolioLink.exists().where(PortfolioLink.company == company.id):
        await PortfolioLink.insert(PortfolioLink(incubator=incubator.id, company=company.id, status="accepted"))


# 4 to know who asks (session, user, memberships, unread notifications) and 1 for the open challenges; then per role
# one query per section, and one more where a section's rows need a second table (a stated reason each):
HOME_BUDGETS = {
    None: 1,  # a visitor: the open challenges only
    "civil_servant": 5 + 3,  # questions, undecided proposals, deliverables to review
    "procurement_officer": 5 + 7,  # approvals, ready to award, standstill (+ its
    # objections), contracts to sign (+ their signatures), payouts
    "evaluator": 5 + 6,  # assignments, declarations, stages; then submitted proposals, the challenge's own criteria, scores
    "company_member": 5 + 5,  # open stages, contracts to sign (+ their signatures), milestones to deliver, payouts
    "incubator_member": 5 + 2,  # the consenting portfolio, its proposals by status
}


@pytest.mark.parametrize("role", list(HOME_BUDGETS))
async def test_the_home_page_runs_a_fixed_number_of_queries_per_role_however_much_awaits(client, role):
    from tests.factories import make_org, make_user, signed_in_client

    body, company, incubator = await make_org("public_body"), await make_org("company"), await make_org("incubator")
    org = {"company_member": company, "incubator_member": incubator}.get(role, body)
    if role:
        await signed_in_client(client, await make_user(role, org=org))
    counts = []
    for _round in range(2):
        await _busy_home_world(body, company, incubator)
        async with counted() as queries:
            response = await client.get("/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts == [HOME_BUDGETS[role]] * 2, "\n".join(q[0][:120] for q in queries)


async def test_a_public_route_runs_no_guard_so_its_handler_is_not_copied_and_closed_routes_stay_guarded(client, monkeypatch):
    """Litestar calls each guard with `copy(route_handler)`: for a route anyone may read, `access` only said yes,
    and the copy was a tenth of a request without database (py-spy and cProfile of `/favicon.ico`)."""
    import litestar.handlers.base as handlers_base

    copies = []
    original = handlers_base.copy
    monkeypatch.setattr(handlers_base, "copy", lambda handler: copies.append(handler) or original(handler))
    assert (await client.get("/favicon.ico")).status_code == 200
    assert (await client.get("/challenges")).status_code == 200
    assert (await client.get("/static/favicon.svg")).status_code == 200
    assert copies == []
    assert (await client.get("/api/v1/me")).status_code == 401  # signed-in only: the guard still runs
    assert copies


async def test_the_request_log_line_is_written_without_walking_the_call_stack(client, monkeypatch, settings):
    """`Logger.log` looks up the caller's file and line (a stack walk) that no formatter of ours prints."""
    import io
    import logging

    from marketplace.core.logs import configure_logging

    walks = []
    original = logging.Logger.findCaller
    monkeypatch.setattr(logging.Logger, "findCaller", lambda self, *a, **k: walks.append(self.name) or original(self, *a, **k))
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    try:
        response = await client.get("/favicon.ico")
    finally:
        configure_logging(settings.log_level, settings.log_format)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines() if '"marketplace.request"' in text]
    assert line["message"] == f"GET /favicon.ico 200 {line['duration_ms']:.1f}ms"
    assert (line["method"], line["path"], line["status"], line["client"]) == ("GET", "/favicon.ico", 200, "127.0.0.1")
    assert line["request_id"] == response.headers["x-request-id"]
    assert "marketplace.request" not in walks


async def test_pages_render_without_looking_at_template_files_or_formatting_the_same_moment_twice(client, monkeypatch):
    """Jinja looked up the modification time of every template of a page on every render (auto reload), and Babel
    formatted each deadline anew on every page (about a tenth of a millisecond each; a catalogue page shows twenty)."""
    import os

    from marketplace.core import templating

    await make_challenge(title="Smart bins")
    looked_at, formatted = [], []
    getmtime, format_date = os.path.getmtime, templating.format_date
    monkeypatch.setattr(os.path, "getmtime", lambda path: looked_at.append(str(path)) or getmtime(path))
    monkeypatch.setattr(templating, "format_date", lambda *a, **k: formatted.append(a[0]) or format_date(*a, **k))
    templating._formatted_moment.cache_clear()
    first = await client.get("/challenges")
    assert first.status_code == 200 and "Smart bins" in first.text and formatted
    looked_at.clear(), formatted.clear()
    second = await client.get("/challenges")
    assert second.status_code == 200 and "Smart bins" in second.text
    assert [path for path in looked_at if path.startswith(str(templating.TEMPLATE_DIR))] == []
    assert formatted == []


async def test_a_deadline_is_marked_up_without_the_escaping_string_formatter(client, monkeypatch):
    """`Markup.format` (string.Formatter with an escaping hook) was a tenth of a catalogue page of twenty
    challenges (cProfile); the deadline filter escapes its three parts itself, with the same markup."""
    import string

    await make_challenge(title="Flood sensors")
    formats = []
    vformat = string.Formatter.vformat
    monkeypatch.setattr(string.Formatter, "vformat", lambda self, *a: formats.append(a[0]) or vformat(self, *a))
    response = await client.get("/challenges")
    assert response.status_code == 200 and "Flood sensors" in response.text
    assert re.search(r'<time datetime="[^"]+" data-local>[^<]+</time> <span class="countdown">\([^<]+\)</span>', response.text)
    assert formats == []


def test_a_translated_text_without_variables_is_not_percent_formatted(monkeypatch):
    """A page translates about a hundred texts, most without variables; `Markup % {}` (escaping a wrapper of the
    arguments) was ~5 % of a catalogue page. Texts with a variable or a `%%` are still formatted, as Jinja does."""
    from markupsafe import Markup

    from marketplace.core import i18n
    from marketplace.core.templating import environment

    env = environment()
    template = env.from_string("{{ _('Challenges') }}|{{ _('100%% sure') }}|{{ _('closes %(when)s', when='<b>') }}")
    formatted = []
    original = Markup.__mod__
    monkeypatch.setattr(Markup, "__mod__", lambda self, arg: formatted.append(str(self)) or original(self, arg))
    token = i18n.current_locale.set("en")
    try:
        assert template.render() == "Challenges|100% sure|closes &lt;b&gt;"
    finally:
        i18n.current_locale.reset(token)
    assert formatted == ["100%% sure", "closes %(when)s"]
