"""The pages, without JavaScript: a company's stage form, my proposals, the buyer's board and decision
form, an evaluator's declaration and scoring form, and the evaluation report (page and PDF)."""

import re
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
import time_machine

from marketplace.challenges.tables import ChallengeStage
from marketplace.evaluation.tables import Score
from marketplace.mail.tables import OutboxMessage
from tests.factories import csrf_token, make_org, make_user, signed_in_client
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


@asynccontextmanager
async def browser(app, user):
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield await signed_in_client(c, user)


async def post_form(c, page_path, action, data):
    token = await csrf_token(c, page_path)
    return await c.post(action, data={**data, "_csrf_token": token})


async def test_a_company_and_a_civil_servant_through_the_pages(app):
    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, start=T0)
        company = await make_org("company", description="Paramedics and engineers.")
        lena = await make_user("company_member", org=company)
        rival = await make_user("company_member")
        async with browser(app, lena) as c:
            form = await c.get(f"/challenges/{challenge.id}/propose")
            assert form.status_code == 200 and "Start the proposal" in form.text
            started = await post_form(c, f"/challenges/{challenge.id}/propose", f"/challenges/{challenge.id}/propose",
                                      {"company_id": str(company.id)})
            assert started.status_code == 303
            pid = re.search(r"/proposals/([0-9a-f-]+)", started.headers["location"]).group(1)
            page = await c.get(f"/proposals/{pid}")
            assert "Paramedics and engineers." in page.text, "the team field is pre-filled from the profile"
            assert 'data-max="300"' in page.text and "What happens next" in page.text
            long = await post_form(c, f"/proposals/{pid}", f"/proposals/{pid}/stages/expression_of_interest",
                                   {"f_idea": "word " * 301, "f_team": "Us.", "f_motivation": "", "action": "submit"})
            assert long.status_code == 422
            assert "has 301 words; the limit is 300" in long.text and 'id="f-motivation-error"' in long.text
            assert "word word" in long.text, "what was typed is kept"
            ok = await post_form(c, f"/proposals/{pid}", f"/proposals/{pid}/stages/expression_of_interest",
                                 {"f_idea": "Real-time triage.", "f_team": "Us.", "f_motivation": "We care.", "action": "submit"})
            assert ok.status_code == 303 and "Submitted" in (await c.get(ok.headers["location"])).text
            mine = await c.get("/proposals")
            assert challenge.title in mine.text and "Timeline" in mine.text
        async with browser(app, rival) as c:
            assert (await c.get(f"/proposals/{pid}")).status_code == 404
        async with browser(app, team["civil_servant"]) as c:
            board = await c.get(f"/challenges/{challenge.id}/board")
            assert board.status_code == 200 and "sealed" in board.text
            assert (await c.get(f"/proposals/{pid}")).status_code == 404
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"])
        async with browser(app, team["civil_servant"]) as c:  # (a new session: the old one expired meanwhile)
            board = await c.get(f"/challenges/{challenge.id}/board")
            assert company.name in board.text and "need a decision" in board.text
            missing = await post_form(c, f"/proposals/{pid}", f"/proposals/{pid}/decision",
                                      {"stage": "expression_of_interest", "outcome": "advance", "feedback": ""})
            assert missing.status_code == 422 and 'id="f-feedback-error"' in missing.text
            decided = await post_form(c, f"/proposals/{pid}", f"/proposals/{pid}/decision",
                                      {"stage": "expression_of_interest", "outcome": "advance", "feedback": "Promising and clear."})
            assert decided.status_code == 303
            report = await c.get(f"/challenges/{challenge.id}/stages/expression_of_interest/report")
            assert report.status_code == 200 and "Promising and clear." in report.text
            pdf = await c.get(f"/challenges/{challenge.id}/stages/expression_of_interest/report.pdf")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
            unconfirmed = await post_form(c, f"/challenges/{challenge.id}/board",
                                          f"/challenges/{challenge.id}/board/stages/expression_of_interest/close", {})
            assert "tick the box to confirm" in (await c.get(unconfirmed.headers["location"])).text  # one click never tells everyone
            closed = await post_form(c, f"/challenges/{challenge.id}/board", f"/challenges/{challenge.id}/board/stages/expression_of_interest/close",
                                     {"confirm": "yes"})
            assert closed.status_code == 303 and "Stage closed" in (await c.get(closed.headers["location"])).text
        assert await OutboxMessage.count().where((OutboxMessage.kind == "proposal_decision") & (OutboxMessage.to_address == lena.email)) == 1
        async with browser(app, lena) as c:
            page = await c.get(f"/proposals/{pid}")
            assert "Promising and clear." in page.text
            # Withdrawing asks for a ticked confirmation; afterwards the propose page leads back to the proposal.
            assert 'name="confirm"' in page.text and "Withdrawing is final" in page.text
            unconfirmed = await post_form(c, f"/proposals/{pid}", f"/proposals/{pid}/withdraw", {})
            assert "Nothing was withdrawn" in (await c.get(unconfirmed.headers["location"])).text
            confirmed = await post_form(c, f"/proposals/{pid}", f"/proposals/{pid}/withdraw", {"confirm": "yes"})
            assert "Your proposal is withdrawn." in (await c.get(confirmed.headers["location"])).text
            again = await c.get(f"/challenges/{challenge.id}/propose")
            assert f'href="/proposals/{pid}"' in again.text and "Start the proposal" not in again.text


async def test_an_evaluator_declares_then_scores_through_the_pages(app):
    with time_machine.travel(T0, tick=False) as clock:
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, start=T0)
        member = await make_user("company_member")
        from tests.factories import token_for

        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
            h = await token_for(member)
            pid = (await api.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=h)).json()["id"]
            await api.put(f"/api/v1/proposals/{pid}/stages/expression_of_interest", headers=h,
                          json={"answers": {"idea": "An idea.", "team": "A team.", "motivation": "A reason."}})
            assert (await api.post(f"/api/v1/proposals/{pid}/stages/expression_of_interest/submit", headers=h)).status_code == 200
        ines = team["evaluator"]
        async with browser(app, team["civil_servant"]) as c:
            r = await post_form(c, f"/challenges/{challenge.id}/board", f"/challenges/{challenge.id}/board/evaluators", {"email": ines.email})
            assert "Evaluator assigned" in (await c.get(r.headers["location"])).text
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"])
        async with browser(app, ines) as c:
            assert "Declare" in (await c.get("/evaluations")).text
            first = await c.get(f"/proposals/{pid}/score")
            assert first.status_code == 303 and "/declaration" in first.headers["location"]
            declaration = await c.get(f"/challenges/{challenge.id}/declaration")
            assert "Companies taking part so far" in declaration.text and member.org.name in declaration.text, "not blind: bidders listed"
            bad = await post_form(c, f"/challenges/{challenge.id}/declaration", f"/challenges/{challenge.id}/declaration", {"has_conflict": "yes"})
            assert bad.status_code == 422
            ok = await post_form(c, f"/challenges/{challenge.id}/declaration", f"/challenges/{challenge.id}/declaration", {"has_conflict": "no"})
            assert ok.status_code == 303
            form = await c.get(f"/proposals/{pid}/score?stage=expression_of_interest")
            assert form.status_code == 200 and "Relevance to the problem" in form.text
            wrong = await post_form(c, f"/proposals/{pid}/score", f"/proposals/{pid}/score",
                                    {"stage": "expression_of_interest", "value_relevance": "9", "why_relevance": "Too high."})
            assert wrong.status_code == 422 and "must be from 0 to 5" in wrong.text
            saved = await post_form(c, f"/proposals/{pid}/score", f"/proposals/{pid}/score", {
                "stage": "expression_of_interest", "value_relevance": "4", "why_relevance": "Fits.", "value_novelty": "3",
                "why_novelty": "Known idea.", "value_team": "5", "why_team": "Strong."})
            assert saved.status_code == 303
        async with browser(app, team["civil_servant"]) as c:
            board = await c.get(f"/challenges/{challenge.id}/board?stage=expression_of_interest")
            assert "1 of 1 proposals scored" in board.text and "80.0" in board.text  # 40*.8 + 30*.6 + 30*1
        scores = await Score.select(Score.criterion, Score.value, Score.justification, Score.evaluator).where(Score.proposal == pid)
        assert sorted((r["criterion"], r["value"], r["justification"]) for r in scores) == [
            ("novelty", 3, "Known idea."), ("relevance", 4, "Fits."), ("team", 5, "Strong.")]
        assert {r["evaluator"] for r in scores} == {ines.id}


async def test_the_board_says_what_each_stage_status_means_and_leads_to_the_award(app):
    with time_machine.travel(T0, tick=False):
        buyer = await make_org("public_body")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, start=T0)
        async with browser(app, team["civil_servant"]) as c:
            board = await c.get(f"/challenges/{challenge.id}/board")
            assert "Open for submissions until" in board.text and "Opens on" in board.text
            assert "Make the first round blind" in board.text and "Assign an evaluator" in board.text
        first = challenge.current_stage
        await ChallengeStage.update({ChallengeStage.status: "evaluation"}).where(
            (ChallengeStage.challenge == challenge.id) & (ChallengeStage.key == first))
        async with browser(app, team["civil_servant"]) as c:
            board = await c.get(f"/challenges/{challenge.id}/board?stage={first}")
            assert "now in evaluation" in board.text and " closes " not in board.text
            assert "Make the first round blind" not in board.text, "blindness cannot change once the first round is judged"
            assert "Assign an evaluator" in board.text
        await ChallengeStage.update({ChallengeStage.status: "decided", ChallengeStage.decided_at: T0}).where(
            ChallengeStage.challenge == challenge.id)
        async with browser(app, team["civil_servant"]) as c:
            board = await c.get(f"/challenges/{challenge.id}/board?stage={first}")
            assert "Decided on" in board.text and "Assign an evaluator" not in board.text
            assert f'href="/challenges/{challenge.id}/award"' not in board.text, "only a procurement officer awards"
        async with browser(app, team["procurement_officer"]) as c:
            board = await c.get(f"/challenges/{challenge.id}/board")
            assert f'href="/challenges/{challenge.id}/award"' in board.text


async def test_the_awarded_company_finds_its_award_and_is_told_the_price_differs(app):
    import json

    from marketplace.proposals.tables import ProposalStage
    from tests.factories import token_for
    from tests.factories_contracts import award_body, make_award_setting

    s = await make_award_setting()
    await ProposalStage.update({ProposalStage.answers: json.dumps({"approach": "Listen beside the operator.",
                                                                   "price": {"amount": 2_100_000, "currency": "EUR"}})}).where(
        ProposalStage.proposal == s.winner.id)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50003))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        awarded = await api.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner), headers=await token_for(s.officer))
        assert awarded.status_code == 201, awarded.text
    async with browser(app, s.winner_member) as c:
        page = await c.get(f"/proposals/{s.winner.id}")
        assert f'href="/awards/{awarded.json()["id"]}"' in page.text
        assert "differs from your bid" in page.text and "21,000" in page.text and "20,000" in page.text
