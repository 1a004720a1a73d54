"""The evaluation board ranks: the stage board lists proposals by rank and names those the evaluators
disagree on most; an evaluator sees what is left to score; the decision form and the evaluation report
carry every score with its justification."""

from __future__ import annotations

import time_machine

from tests.factories import signed_in_client, token_for
from tests.factories_proposals import stage_row
from tests.test_evaluation import T0, evaluation_setup

STAGE = "expression_of_interest"


def _scores(relevance, novelty, team, why="Because."):
    return {"stage": STAGE, "scores": [{"criterion": "relevance", "value": relevance, "justification": f"Relevance: {why}"},
                                       {"criterion": "novelty", "value": novelty, "justification": f"Novelty: {why}"},
                                       {"criterion": "team", "value": team, "justification": f"Team: {why}"}]}


async def test_the_board_ranks_flags_disagreement_and_the_decision_form_shows_justifications(client):
    with time_machine.travel(T0, tick=False) as clock:
        buyer, team, challenge, a, b, civil, ines, jan = await evaluation_setup(client)
        ih, jh = await token_for(ines), await token_for(jan)
        clock.move_to((await stage_row(challenge, STAGE))["closes_at"])
        for h in (ih, jh):
            await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=h, json={"has_conflict": False})
        # b is ranked first (88); on a, Ines and Jan disagree strongly (100 against 26 points, weights 40/30/30)
        await client.put(f"/api/v1/proposals/{a.id}/scores", headers=ih, json=_scores(5, 5, 5, "Excellent fit."))
        await client.put(f"/api/v1/proposals/{a.id}/scores", headers=jh, json=_scores(1, 2, 1, "Misses the point."))
        await client.put(f"/api/v1/proposals/{b.id}/scores", headers=jh, json=_scores(5, 5, 4))

        servant = await signed_in_client(client, team["civil_servant"])
        board = (await servant.get(f"/challenges/{challenge.id}/board?stage={STAGE}")).text
        assert board.index(b.company_org.name) < board.index(a.company_org.name)  # sorted by rank
        assert "disagree most" in board and "74.0 points apart" in board, board[board.find("<table"):][:1500]

        page = (await servant.get(f"/proposals/{a.id}")).text
        assert "Relevance: Excellent fit." in page and "Relevance: Misses the point." in page
        assert "The evaluators&#39; scores and justifications" in page or "The evaluators' scores and justifications" in page

        report = (await servant.get(f"/challenges/{challenge.id}/stages/{STAGE}/report")).text
        assert "Team: Misses the point." in report and "Novelty: Excellent fit." in report

        evaluator = await signed_in_client(client, ines)
        ines_board = (await evaluator.get(f"/challenges/{challenge.id}/board?stage={STAGE}")).text
        assert "Your scoring" in ines_board and f'href="/proposals/{b.id}/score"' in ines_board  # b is left for Ines
        assert ">scored<" in ines_board  # a is done

