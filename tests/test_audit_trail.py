"""Every state change leaves an audit event with who, when, from where, before and after: the
journeys the other tests walk are walked again here and their trail read back; sign-in success and
failure are recorded with the address they came from; a submission's content never enters the trail."""

import importlib
import json

import httpx
import pytest

from marketplace.transparency import audit
from marketplace.transparency.tables import AuditEvent
from tests.factories import PASSWORD, make_user

JOURNEYS = {
    "test_accounts_api:test_admin_creates_a_public_body_and_invites_its_staff": {
        "admin.public_body_created", "invitation.sent", "role.granted"},
    "test_accounts_api:test_founder_registers_a_company_confirms_her_address_and_gets_a_token": {"account.registered", "signin.succeeded"},
    "test_accounts_api:test_incubator_portfolio_needs_the_companys_consent": {"portfolio.requested", "portfolio.decided"},
    "test_challenges_approval:test_civil_servant_requests_approval_and_officers_are_told": {"challenge.approval_requested"},
    "test_challenges_dialogue:test_company_asks_buyer_answers_and_everyone_reads_without_the_askers_name": {
        "question.asked", "question.answered"},
    "test_proposals_journey:test_a_company_walks_the_light_procedure": {
        "proposal.started", "proposal.submitted", "stage.submissions_closed", "decision.made", "proposal.decided", "stage.decided"},
    "test_evaluation:test_evaluators_declare_then_score_independently_and_the_ranking_adds_up": {
        "evaluator.assigned", "declaration.made", "score.given"},
}


async def trail() -> list[dict]:
    await audit.chain_pending()
    return [audit.event_out(r) for r in await AuditEvent.select().order_by(AuditEvent.seq)]


@pytest.mark.parametrize("journey", sorted(JOURNEYS))
async def test_each_journey_leaves_its_audit_trail(client, journey):
    module, name = journey.split(":")
    await getattr(importlib.import_module(f"tests.{module}"), name)(client)
    events = await trail()
    actions = {e["action"] for e in events}
    assert JOURNEYS[journey] <= actions, JOURNEYS[journey] - actions
    for e in events:
        if e["actor"] not in ("system", "anonymous", "command line"):
            assert e["ip"] == "127.0.0.1", e  # where the request came from
    assert (await audit.verify()).ok


async def test_a_submission_is_recorded_without_its_content(client):
    from tests.test_proposals_journey import test_a_company_walks_the_light_procedure

    await test_a_company_walks_the_light_procedure(client)
    submitted = [e for e in await trail() if e["action"] == "proposal.submitted"]
    assert submitted and all(set(e["data"]) <= {"stage", "version", "before", "after"} for e in submitted)


async def test_sign_in_success_and_failure_are_recorded_with_where_they_came_from(app):
    user = await make_user("company_member")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        assert (await c.post("/api/v1/auth/tokens", json={"email": user.email, "password": "wrong-password-1"})).status_code == 401
        assert (await c.post("/api/v1/auth/tokens", json={"email": "nobody@example.be", "password": "x" * 12})).status_code == 401
        assert (await c.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})).status_code == 201
    events = [e for e in await trail() if e["action"].startswith("signin.")]
    assert [(e["action"], e["actor"], e["subject_id"], e["ip"]) for e in events] == [
        ("signin.failed", "anonymous", str(user.id), "198.51.100.7"),
        ("signin.failed", "anonymous", "unknown", "198.51.100.7"),
        ("signin.succeeded", str(user.id), str(user.id), "198.51.100.7")]
    assert "nobody@example.be" not in json.dumps(events), "an unknown address is kept only as its hash"


async def test_an_admin_action_names_the_admin_and_what_changed(client):
    from tests.factories import token_for

    admin = await make_user(admin=True)
    created = await client.post("/api/v1/organisations", headers=await token_for(admin), json={
        "kind": "public_body", "name": "City of Leuven", "country": "BE", "budget_ceiling": {"amount": 5_000_000, "currency": "EUR"}})
    assert created.status_code == 201, created.text
    [event] = [e for e in await trail() if e["action"] == "admin.public_body_created"]
    assert (event["actor"], event["subject_id"], event["data"]["after"]) == (
        str(admin.id), created.json()["id"], {"budget_ceiling_cents": 5_000_000})
