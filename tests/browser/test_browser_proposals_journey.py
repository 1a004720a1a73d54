"""In Chromium: a company answers two stages of the light procedure; a civil servant assigns an
evaluator, who declares and scores; the civil servant decides with feedback and closes the stage."""

from datetime import UTC, datetime, timedelta

import time_machine

from marketplace.proposals.lifecycle import advance_stage_deadlines
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import make_org, make_user
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_company_through_two_stages_and_a_civil_servant_through_scoring_and_decisions(new_page):
    with time_machine.travel(T0, tick=True) as clock:
        buyer = await make_org("public_body", name="FPS Home Affairs")
        team = await make_buyer_team(buyer)
        challenge = await make_open_challenge(buyer, start=T0, title="Prioritise 112 emergency calls by severity")
        company = await make_org("company", name="TriageVoice BV", description="Two former call-takers and a speech scientist.")
        lena = await make_user("company_member", org=company)

        # The company starts its proposal and submits the expression of interest.
        founder = await new_page()
        await sign_in(founder, lena.email)
        await founder.goto(f"/challenges/{challenge.id}/propose")
        await founder.get_by_role("button", name="Start the proposal").click()
        await founder.wait_for_url("**/proposals/*")
        assert await founder.get_by_label("Team").input_value() == "Two former call-takers and a speech scientist."
        await founder.get_by_label("Your idea in a nutshell").fill("A speech model flags life-threatening calls in 20 seconds.")
        await founder.wait_for_selector("text=9 of at most 300 words")  # the live word counter
        await founder.wait_for_selector(".autosave-status:has-text('Draft saved.')", timeout=15_000)  # autosaved, no click
        await assert_accessible(founder)
        await founder.get_by_role("button", name="Submit this stage").click()
        await founder.wait_for_selector("#f-motivation-error")
        await founder.get_by_label("Motivation").fill("We sat in those queues ourselves.")
        await founder.get_by_role("button", name="Submit this stage").click()
        await founder.wait_for_selector("text=Submitted. You can still edit and resubmit until the deadline.")

        # After the deadline: the civil servant assigns an evaluator, who declares and scores.
        clock.move_to((await stage_row(challenge, "expression_of_interest"))["closes_at"] + timedelta(minutes=1))
        civil = await new_page()
        await sign_in(civil, team["civil_servant"].email)
        await civil.goto(f"/challenges/{challenge.id}/board")
        await civil.get_by_label("Assign an evaluator (e-mail address)").fill(team["evaluator"].email)
        await civil.get_by_role("button", name="Assign", exact=True).click()
        await civil.wait_for_selector("text=Evaluator assigned.")
        await assert_accessible(civil)

        evaluator = await new_page()
        await sign_in(evaluator, team["evaluator"].email)
        await evaluator.goto("/evaluations")
        await evaluator.get_by_role("link", name="Declare").click()
        await evaluator.get_by_label("No, I have no conflict of interest").check()
        await evaluator.get_by_role("button", name="Declare").click()
        await evaluator.wait_for_url("**/board**")
        await evaluator.get_by_role("link", name="TriageVoice BV").click()
        await evaluator.get_by_role("link", name="Score this stage").click()
        for criterion, value in (("relevance", "5"), ("novelty", "4"), ("team", "4")):
            await evaluator.check(f"#f-value_{criterion}-{value}")
            await evaluator.fill(f"#f-why_{criterion}", "Well argued for the 112 centres.")
        await assert_accessible(evaluator)
        await evaluator.get_by_role("button", name="Save my scores").click()
        await evaluator.wait_for_selector("text=Scores saved.")

        await civil.goto(f"/challenges/{challenge.id}/board")
        await civil.wait_for_selector("td:has-text('88.0')")  # 40*1 + 30*.8 + 30*.8
        await civil.get_by_role("link", name="TriageVoice BV").click()
        await civil.get_by_label("Advance").check()
        await civil.get_by_role("button", name="Save the decision").click()
        await civil.wait_for_selector("#f-feedback-error")
        await civil.get_by_label("Written feedback for the company").fill("Clear and testable. Show how you measure false alarms.")
        await civil.get_by_label("Advance").check()
        await civil.get_by_role("button", name="Save the decision").click()
        await civil.wait_for_selector("text=Decision saved.")
        await civil.get_by_label("I confirm that the decisions are final and every company may be told").check()
        await civil.get_by_role("button", name="Close the stage and tell every company").click()
        await civil.wait_for_selector("text=Stage closed: 1 advanced, 0 not selected.")

        # The next stage opens by itself; the company reads its feedback and answers the short proposal.
        clock.move_to((await stage_row(challenge, "short_proposal"))["opens_at"] + timedelta(minutes=1))
        assert await advance_stage_deadlines() == 1
        founder = await new_page()
        await sign_in(founder, lena.email)
        await founder.goto("/proposals")
        await founder.get_by_role("link", name="Prioritise 112 emergency calls by severity").click()
        await founder.wait_for_load_state()
        await founder.wait_for_selector("text=Show how you measure false alarms.")
        assert await founder.get_by_label("Approach").input_value() == "A speech model flags life-threatening calls in 20 seconds."
        await founder.get_by_label("Experiment plan").fill("Four weeks in two centres, replaying last winter's storm calls.")
        await founder.get_by_label("Milestone 1: title").fill("Replay on historical calls")
        await founder.get_by_label("Amount in euros (excl. VAT)").first.fill("12000")
        await founder.get_by_label("Deliverable").first.fill("Replay report")
        await founder.get_by_label("Price (excl. VAT)").fill("12000")
        await founder.get_by_role("button", name="Submit this stage").click()
        await founder.wait_for_selector("text=Submitted. You can still edit and resubmit until the deadline.")
        await assert_accessible(founder)
