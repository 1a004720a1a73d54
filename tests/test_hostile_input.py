"""Hostile but well-formed input gets a 4xx naming what is wrong, never a 500, on both databases."""

from __future__ import annotations

import base64
import json
import uuid

from marketplace.proposals.tables import ProposalStage
from tests.factories import csrf_token, signed_in_client, token_for
from tests.factories_challenges import COMPLETE, make_buyer_team, make_challenge
from tests.test_proposals_attachments import PDF, at_short_proposal, clock, url  # noqa: F401 - the frozen clock fixture

DRAFT = {**COMPLETE, "title": "Triage", "budget_cap": {"amount": 2_500_000, "currency": "EUR"}, "max_duration_days": 90,
         "procedure": {"template": "light"}}


def _fields(response) -> list[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return [e["field"] for e in response.json()["errors"]]


async def test_open_data_since_a_time_at_the_end_of_the_calendar_is_refused(client):
    response = await client.get("/api/v1/opendata/ocds/releases", params={"since": "9999-12-31T23:59:59-14:00"})
    assert response.status_code == 422 and _fields(response) == ["since"]
    # a valid date with nothing newer: 204, since an OCDS package holds at least one release
    assert (await client.get("/api/v1/opendata/ocds/releases", params={"since": "2026-01-01T00:00:00Z"})).status_code == 204


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


async def test_hostile_catalogue_cursors_and_filters_are_refused(client):
    await make_challenge()
    ident = str(uuid.uuid4())
    hostile = [
        {"sort": "budget", "cursor": _cursor("budget", 10**30, ident)},
        {"sort": "budget", "cursor": _cursor("budget", -(10**30), ident)},
        {"sort": "budget", "cursor": _cursor("budget", 1.5e308, ident)},
        {"sort": "closing", "cursor": _cursor("closing", "9999-12-31T23:59:59-14:00", ident)},
        {"sort": "newest", "cursor": _cursor("newest", "0001-01-01T00:00:00+14:00", ident)},
        {"sort": "newest", "cursor": _cursor("newest", [], ident)},
        {"closing_before": "9999-12-31T23:59:59-14:00"},
        {"closing_before": "0001-01-01T00:00:00+14:00"},
        {"min_budget": "1" + "0" * 40},
        {"limit": "9" * 40},
    ]
    for params in hostile:
        response = await client.get("/api/v1/challenges", params=params)
        assert response.status_code == 422, (params, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_json_nested_a_thousand_deep_is_a_400(client):
    team = await make_buyer_team()
    body = "[" * 1000 + "]" * 1000
    response = await client.post("/api/v1/challenges", content=body, headers={**await token_for(team.civil_servant),
                                                                               "content-type": "application/json"})
    assert response.status_code == 400 and _fields(response) == ["body"]
    deep = {"title": "x"}
    for _ in range(40):
        deep = {"nested": deep}
    response = await client.post("/api/v1/auth/register", json=deep)
    assert response.status_code == 400 and "deeper" in response.json()["detail"]


async def test_a_string_is_not_an_amount_and_amounts_are_bounded(client):
    team = await make_buyer_team()
    headers = await token_for(team.civil_servant)
    as_text = await client.post("/api/v1/challenges", json={**DRAFT, "budget_cap": {"amount": "100", "currency": "EUR"}}, headers=headers)
    assert as_text.status_code == 422 and _fields(as_text) == ["budget_cap.amount"]
    huge = await client.post("/api/v1/challenges", json={**DRAFT, "budget_cap": {"amount": 10**30, "currency": "EUR"}}, headers=headers)
    assert huge.status_code == 422 and _fields(huge) == ["budget_cap.amount"]
    days = await client.post("/api/v1/challenges", json={**DRAFT, "max_duration_days": "90"}, headers=headers)
    assert days.status_code == 422 and _fields(days) == ["max_duration_days"]
    assert (await client.post("/api/v1/challenges", json=DRAFT, headers=headers)).status_code == 201


async def test_a_draft_price_of_ten_to_the_thirty_is_not_stored(client, clock):  # noqa: F811
    _buyer, _challenge, proposal, team = await at_short_proposal()
    stage = f"/api/v1/proposals/{proposal.id}/stages/short_proposal"
    for price, field in ((10**30, "answers.price.amount"), (10**14, "answers.price"), ("100", "answers.price")):
        response = await client.put(stage, headers=team, json={"answers": {"price": {"amount": price, "currency": "EUR"}}})
        assert response.status_code == 422 and _fields(response) == [field], response.text
    stored = await ProposalStage.select(ProposalStage.answers).where(ProposalStage.proposal == proposal.id).first()
    assert json.loads(stored["answers"]) == {}
    fine = await client.put(stage, headers=team, json={"answers": {"price": {"amount": 1_500_000, "currency": "EUR"}}})
    assert fine.status_code == 200, fine.text


async def test_a_year_9999_deadline_is_refused_by_the_api_and_the_editor(client):
    team = await make_buyer_team()
    headers = await token_for(team.civil_servant)
    for body, field in (
        ({**DRAFT, "schedule": [{"stage": "expression_of_interest", "closes_at": "9999-12-31T23:59:59-14:00"}]}, "schedule[0].closes_at"),
        ({**DRAFT, "qa_closes_at": "9999-12-31T23:59:59+00:00"}, "qa_closes_at"),
    ):
        response = await client.post("/api/v1/challenges", json=body, headers=headers)
        assert response.status_code == 422 and _fields(response) == [field], response.text
    draft = (await client.post("/api/v1/challenges", json=DRAFT, headers=headers)).json()
    patched = await client.patch(f"/api/v1/challenges/{draft['id']}", headers=headers,
                                 json={"schedule": [{"stage": "expression_of_interest", "closes_at": "9999-12-31T23:59:59Z"}]})
    assert patched.status_code == 422
    publish = await client.post(f"/api/v1/challenges/{draft['id']}/publish", json={"publish_at": "9999-12-31T00:00:00Z"},
                                headers=await token_for(team.officer))
    assert publish.status_code == 422 and _fields(publish) == ["publish_at"]

    await signed_in_client(client, team.civil_servant)
    token = await csrf_token(client, f"/challenges/{draft['id']}/edit")
    form = {"_csrf_token": token, "title": "Triage", "procedure": "light", "schedule_expression_of_interest": "9999-12-31T23:59"}
    saved = await client.post(f"/challenges/{draft['id']}/edit", data=form)
    assert saved.status_code == 422
    assert (await client.get(f"/challenges/{draft['id']}/edit")).status_code == 200
    publish_page = await client.get(f"/challenges/{draft['id']}/publish")
    assert publish_page.status_code in (200, 403)


async def test_an_annex_named_outside_latin_1_downloads_with_its_name(client, clock):  # noqa: F811
    _buyer, _challenge, proposal, team = await at_short_proposal()
    for name in ("бюджет.pdf", "报告.pdf", "rapport été.pdf"):
        r = await client.post(url(proposal), headers=team, files={"file": (name, PDF, "application/pdf")})
        assert r.status_code == 201, r.text
        r = await client.get(url(proposal), headers=team)
        assert r.status_code == 200 and r.content == PDF
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment; filename=")
        from urllib.parse import quote

        assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
        disposition.encode("latin-1")
