"""Evaluation: criteria, evaluators, declarations before opening, independent justified scores,
the arithmetic of the ranking, and a blind first round."""

from datetime import UTC, datetime, timedelta

import time_machine

from marketplace.evaluation.arithmetic import Crit, competition_ranks, summarise, weighted_total
from tests.factories import make_org, make_user, token_for
from tests.factories_proposals import make_buyer_team, make_open_challenge, make_proposal, stage_row

T0 = datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
EOI = [Crit("relevance", 40, 5), Crit("novelty", 30, 5), Crit("team", 30, 5)]


def test_weighted_totals_means_and_spread_by_hand():
    assert weighted_total(EOI, {"relevance": 5, "novelty": 4, "team": 3}) == 82.0  # 40 + 24 + 18
    assert weighted_total(EOI, {"relevance": 3, "novelty": 4, "team": 5}) == 78.0  # 24 + 24 + 30
    s = summarise(EOI, [("a", "relevance", 5), ("a", "novelty", 4), ("a", "team", 3),
                        ("b", "relevance", 3), ("b", "novelty", 4), ("b", "team", 5)])
    assert s == {"means": {"relevance": 4.0, "novelty": 4.0, "team": 4.0}, "weighted_total": 80.0, "spread": 4.0,
                 "evaluators": 2, "complete": True}
    partial = summarise(EOI, [("a", "relevance", 5)])
    assert partial["complete"] is False and partial["weighted_total"] == 40.0 and partial["spread"] == 0.0
    assert weighted_total([Crit("x", 1, 10), Crit("team", 3, 10)], {"x": 10, "team": 5}) == 62.5
    assert competition_ranks([90.0, 80.0, 80.0, 70.0]) == [1, 2, 2, 4]


async def evaluation_setup(client):
    buyer = await make_org("public_body")
    team = await make_buyer_team(buyer)
    challenge = await make_open_challenge(buyer, start=T0)
    a = await make_proposal(challenge, status="submitted")
    b = await make_proposal(challenge, status="submitted")
    civil = await token_for(team["civil_servant"])
    ines = await make_user("evaluator", org=buyer)
    jan = await make_user("evaluator", org=buyer)
    for e in (ines, jan):
        r = await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=civil, json={"user_id": str(e.id)})
        assert r.status_code == 201, r.text
    return buyer, team, challenge, a, b, civil, ines, jan


async def test_evaluators_declare_then_score_independently_and_the_ranking_adds_up(client):
    with time_machine.travel(T0, tick=False) as clock:
        buyer, team, challenge, a, b, civil, ines, jan = await evaluation_setup(client)
        ih, jh = await token_for(ines), await token_for(jan)
        company_member = await token_for(await make_user("company_member"))
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=civil,
                                  json={"user_id": str(team["procurement_officer"].id)})).json()["errors"][0]["field"] == "user_id"
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=civil,
                                  json={"user_id": str(ines.id)})).status_code == 409
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/evaluators", headers=company_member,
                                  json={"user_id": str(ines.id)})).status_code == 403

        body = {"stage": "expression_of_interest", "scores": [
            {"criterion": "relevance", "value": 5, "justification": "Aims at the exact bottleneck."},
            {"criterion": "novelty", "value": 4, "justification": "New for emergency centres."},
            {"criterion": "team", "value": 3, "justification": "Small team."}]}
        assert (await client.put(f"/api/v1/proposals/{a.id}/scores", headers=ih, json=body)).status_code == 404, "sealed"
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"])
        undeclared = await client.put(f"/api/v1/proposals/{a.id}/scores", headers=ih, json=body)
        assert undeclared.status_code == 409 and undeclared.json()["errors"][0]["field"] == "declaration"
        no_statement = await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=ih, json={"has_conflict": True})
        assert no_statement.status_code == 422 and no_statement.json()["errors"][0]["field"] == "statement"
        for h in (ih, jh):
            assert (await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=h, json={"has_conflict": False})).status_code == 201

        bad = await client.put(f"/api/v1/proposals/{a.id}/scores", headers=ih, json={"stage": "expression_of_interest", "scores": [
            {"criterion": "relevance", "value": 6, "justification": "x"}, {"criterion": "novelty", "value": 2, "justification": " "},
            {"criterion": "price", "value": 1, "justification": "x"}]})
        assert bad.status_code == 422
        assert {e["field"] for e in bad.json()["errors"]} == {"scores[0].value", "scores[1].justification", "scores[2].criterion"}
        assert (await client.get(f"/api/v1/proposals/{a.id}/scores?stage=expression_of_interest", headers=ih)).json()["scores"] == []

        assert (await client.put(f"/api/v1/proposals/{a.id}/scores", headers=ih, json=body)).json()["complete"] is True
        jan_a = {"stage": "expression_of_interest", "scores": [
            {"criterion": "relevance", "value": 3, "justification": "Partly."}, {"criterion": "novelty", "value": 4, "justification": "Yes."},
            {"criterion": "team", "value": 5, "justification": "Strong."}]}
        await client.put(f"/api/v1/proposals/{a.id}/scores", headers=jh, json=jan_a)
        await client.put(f"/api/v1/proposals/{b.id}/scores", headers=jh, json={"stage": "expression_of_interest", "scores": [
            {"criterion": "relevance", "value": 5, "justification": "Yes."}, {"criterion": "novelty", "value": 5, "justification": "Yes."},
            {"criterion": "team", "value": 5, "justification": "Yes."}]})
        mine = await client.get(f"/api/v1/proposals/{a.id}/scores?stage=expression_of_interest", headers=jh)
        assert [s["value"] for s in mine.json()["scores"]] == [3, 4, 5], "each evaluator sees only their own"

        ranking = (await client.get(f"/api/v1/challenges/{challenge.id}/ranking?stage=expression_of_interest", headers=civil)).json()
        assert [(i["proposal_id"], i["rank"], i["weighted_total"], i["spread"], i["evaluators"]) for i in ranking["items"]] == [
            (str(b.id), 1, 100.0, 0.0, 1), (str(a.id), 2, 80.0, 4.0, 2)]
        assert ranking["items"][1]["criteria"] == [{"criterion": "relevance", "mean": 4.0}, {"criterion": "novelty", "mean": 4.0},
                                                   {"criterion": "team", "mean": 4.0}]
        assert (await client.get(f"/api/v1/challenges/{challenge.id}/ranking", headers=ih)).status_code == 403
        progress = (await client.get(f"/api/v1/challenges/{challenge.id}/progress?stage=expression_of_interest", headers=civil)).json()
        assert {(p["name"], p["proposals_scored"], p["proposals_total"]) for p in progress["items"]} == {(ines.name, 1, 2), (jan.name, 2, 2)}

        changed = await client.put(f"/api/v1/challenges/{challenge.id}/criteria", headers=civil, json=[
            {"key": "relevance", "name": "Relevance", "stage": "expression_of_interest", "weight": 50},
            {"key": "team", "name": "Team", "stage": "expression_of_interest", "weight": 50}])
        assert changed.status_code == 409, "criteria are fixed once scoring began"
        assert (await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=ih,
                                  json={"has_conflict": True, "statement": "late"})).status_code == 409


async def test_criteria_keep_the_team_and_positive_weights(client):
    buyer = await make_org("public_body")
    civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
    challenge = await make_open_challenge(buyer)
    refused = await client.put(f"/api/v1/challenges/{challenge.id}/criteria", headers=civil, json=[
        {"key": "relevance", "name": "Relevance", "stage": "expression_of_interest", "weight": 0},
        {"key": "price", "name": "Price", "stage": "nowhere", "weight": 10}])
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"[0].weight", "[1].stage", "expression_of_interest.team"}
    ok = await client.put(f"/api/v1/challenges/{challenge.id}/criteria", headers=civil, json=[
        {"key": "impact", "name": "Impact on callers", "stage": "expression_of_interest", "weight": 60, "scale_max": 10},
        {"key": "team", "name": "Team and motivation", "stage": "expression_of_interest", "weight": 40, "scale_max": 10}])
    assert ok.status_code == 200
    eoi = (await client.get(f"/api/v1/challenges/{challenge.id}/criteria?stage=expression_of_interest", headers=civil)).json()["items"]
    assert [(c["key"], c["weight"], c["scale_max"]) for c in eoi] == [("impact", 60, 10), ("team", 40, 10)]
    pitch = (await client.get(f"/api/v1/challenges/{challenge.id}/criteria?stage=pitch", headers=civil)).json()["items"]
    assert [c["key"] for c in pitch] == ["convincing", "team"], "other stages keep the template's criteria"
    stranger = await token_for(await make_user("civil_servant"))
    assert (await client.put(f"/api/v1/challenges/{challenge.id}/criteria", headers=stranger, json=[])).status_code == 404


async def test_a_blind_first_round_hides_the_company_from_evaluators_and_a_conflict_closes_everything(client):
    with time_machine.travel(T0, tick=False) as clock:
        buyer, team, challenge, a, b, civil, ines, jan = await evaluation_setup(client)
        assert (await client.put(f"/api/v1/challenges/{challenge.id}/evaluation", headers=civil,
                                 json={"blind_first_round": True})).status_code == 200
        ih, jh = await token_for(ines), await token_for(jan)
        await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=ih, json={"has_conflict": False})
        await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=jh,
                          json={"has_conflict": True, "statement": "My brother founded one of the bidders."})
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"] + timedelta(minutes=1))
        seen = await client.get(f"/api/v1/proposals/{a.id}", headers=ih)
        assert seen.status_code == 200 and seen.json()["company"] is None
        listing = await client.get(f"/api/v1/challenges/{challenge.id}/proposals", headers=ih)
        assert all(i["company"] is None for i in listing.json()["items"]) and len(listing.json()["items"]) == 2
        assert (await client.get(f"/api/v1/proposals/{a.id}", headers=civil)).json()["company"]["name"] == a.company_org.name
        assert (await client.get(f"/api/v1/proposals/{a.id}", headers=jh)).status_code == 404
        assert (await client.put(f"/api/v1/proposals/{a.id}/scores", headers=jh, json={"stage": "expression_of_interest", "scores": []})).status_code == 404
        evaluators = (await client.get(f"/api/v1/challenges/{challenge.id}/evaluators", headers=civil)).json()["items"]
        assert {(e["name"], e["declared"], e["has_conflict"]) for e in evaluators} == {(ines.name, True, False), (jan.name, True, True)}
