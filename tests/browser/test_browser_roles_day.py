"""In Chromium, each role's new path of the day: the officer previews a draft, sends it back with a comment
that the author finds next to the field, and publishes the corrected draft; the company learns of a proposal
an incubator started in its name and can withdraw it."""

from marketplace.challenges.tables import Challenge
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories_challenges import make_buyer_team, make_draft


async def test_the_officer_sends_a_draft_back_with_a_comment_then_publishes_it(page, new_page):
    team = await make_buyer_team()
    draft = await make_draft(team.org, title="Triage of 112 calls at peak times", problem="Calls wait.")

    # The author asks for approval; the draft's page says it waits.
    await sign_in(page, team.civil_servant.email)
    await page.goto(f"/challenges/{draft.id}/edit")
    await page.get_by_role("button", name="Request approval").click()
    await page.wait_for_url(f"**/challenges/{draft.id}/edit**")
    assert "Waiting for a procurement officer's approval." in await page.locator("main").inner_text()

    # The officer sees the challenge as the public will, and sends it back with a comment on the problem.
    officer = await new_page()
    await sign_in(officer, team.officer.email)
    await officer.goto(f"/challenges/{draft.id}/publish")
    preview = await officer.locator("main").inner_text()
    assert "Triage of 112 calls at peak times" in preview and "Calls wait." in preview
    await assert_accessible(officer)
    await officer.get_by_text("Send it back to the authors with comments").click()
    await officer.locator("#f-comment_problem").fill("Too vague: how often does it happen, and for how long?")
    await officer.get_by_role("button", name="Send back").click()
    await officer.wait_for_load_state()
    assert (await Challenge.objects().where(Challenge.id == draft.id).first()).status == "draft"

    # The author finds the comment next to the field, changes the draft and asks again.
    await page.goto(f"/challenges/{draft.id}/edit")
    comment = page.locator("#f-problem-comment")
    assert "Too vague: how often does it happen" in await comment.inner_text()
    await assert_accessible(page)
    await page.get_by_label("The problem").fill("At every storm, 400 calls wait more than 5 minutes.")
    await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_url(f"**/challenges/{draft.id}/edit**")
    await page.get_by_role("button", name="Request approval").click()
    await page.wait_for_url(f"**/challenges/{draft.id}/edit**")

    # The officer sees what changed since the last request, and publishes.
    await officer.goto(f"/challenges/{draft.id}/publish")
    changes = await officer.locator("section[aria-labelledby=changes-heading]").inner_text()
    assert "400 calls wait more than 5 minutes" in changes
    await officer.get_by_role("button", name="Approve and publish").click()
    await officer.wait_for_url(f"**/challenges/{draft.id}")
    assert (await Challenge.objects().where(Challenge.id == draft.id).first()).status == "published"


async def test_the_company_learns_of_the_proposal_an_incubator_started_in_its_name_and_withdraws_it(page, new_page):
    from marketplace.accounts.tables import PortfolioLink
    from marketplace.proposals.tables import Proposal
    from tests.factories import make_org, make_user
    from tests.factories_proposals import make_open_challenge

    challenge = await make_open_challenge(title="Faster triage of 112 calls")
    incubator = await make_org("incubator", name="Brussels Starter Hub")
    amina = await make_user("incubator_member", org=incubator)
    company = await make_org("company", name="TriageVoice")
    lena = await make_user("company_member", org=company)
    await PortfolioLink.insert(PortfolioLink(incubator=incubator.id, company=company.id, status="accepted"))

    # The incubator starts a proposal in the company's name.
    await sign_in(page, amina.email)
    await page.goto(f"/challenges/{challenge.id}/propose")
    await page.get_by_label("For which company?").select_option(label="TriageVoice")
    await page.get_by_role("button", name="Start the proposal").click()
    await page.wait_for_url("**/proposals/*")
    proposal = await Proposal.objects().where(Proposal.challenge == challenge.id).first()
    assert proposal.company == company.id and proposal.status != "withdrawn"

    # The company's founder sees it in the header's count, reads the notification and follows it.
    founder = await new_page()
    await sign_in(founder, lena.email)
    await founder.goto("/")
    assert "1" in await founder.get_by_role("link", name="Notifications").inner_text()
    await founder.get_by_role("link", name="Notifications").click()
    note = founder.get_by_role("link", name="Brussels Starter Hub started a proposal for \"Faster triage of 112 calls\" in the name of TriageVoice")
    await assert_accessible(founder)
    await note.click()
    await founder.wait_for_url(f"**/proposals/{proposal.id}")

    # It does not want it: it withdraws the proposal on its page.
    await founder.get_by_label("I confirm that we withdraw this proposal").check()
    await founder.get_by_role("button", name="Withdraw this proposal").click()
    await founder.wait_for_load_state()
    assert (await Proposal.objects().where(Proposal.id == proposal.id).first()).status == "withdrawn"


async def score_in_browser(page, scores: dict[str, tuple[int, str]]) -> None:
    """Fill the scoring form: a value (a number field, or the radio button of that score) and a justification."""
    for criterion, (value, why) in scores.items():
        choices = page.locator(f"[name=value_{criterion}]")
        if await choices.count() > 1:
            await page.locator(f"[name=value_{criterion}][value='{value}']").check()
        else:
            await choices.fill(str(value))
        await page.fill(f"#f-why_{criterion}", why)
    await page.get_by_role("button", name="Save my scores").click()
    await page.wait_for_selector("text=Scores saved.")


async def test_evaluators_score_on_their_board_and_the_buyer_sees_the_ranking_and_the_disagreement(client, new_page):
    import time_machine

    from tests.factories import token_for
    from tests.factories_proposals import stage_row
    from tests.test_evaluation import T0, evaluation_setup
    from tests.test_evaluation_board import STAGE, _scores

    with time_machine.travel(T0, tick=True) as clock:
        buyer, team, challenge, a, b, civil, ines, jan = await evaluation_setup(client)
        clock.move_to((await stage_row(challenge, STAGE))["closes_at"])
        ih = await token_for(ines)
        await client.post(f"/api/v1/challenges/{challenge.id}/declarations", headers=ih, json={"has_conflict": False})
        await client.put(f"/api/v1/proposals/{a.id}/scores", headers=ih, json=_scores(5, 5, 5, "Excellent fit."))
        await client.put(f"/api/v1/proposals/{b.id}/scores", headers=ih, json=_scores(5, 5, 4, "Strong."))

        # Jan declares, then works through what is left to score on his board.
        evaluator = await new_page()
        await sign_in(evaluator, jan.email)
        await evaluator.goto("/evaluations")
        await evaluator.get_by_role("link", name="Declare").click()
        await evaluator.get_by_label("No, I have no conflict of interest").check()
        await evaluator.get_by_role("button", name="Declare").click()
        await evaluator.wait_for_url("**/board**")
        assert await evaluator.get_by_role("link", name="to score").count() == 2
        await evaluator.goto(f"/proposals/{a.id}/score")
        await score_in_browser(evaluator, {"relevance": (1, "Misses the point."), "novelty": (2, "Seen before."),
                                           "team": (1, "No call-room experience.")})
        await evaluator.goto(f"/challenges/{challenge.id}/board?stage={STAGE}")
        assert await evaluator.get_by_role("link", name="to score").count() == 1
        await evaluator.get_by_role("link", name="to score").click()
        await score_in_browser(evaluator, {"relevance": (5, "Exactly the bottleneck."), "novelty": (5, "New here."),
                                           "team": (4, "Solid.")})
        await assert_accessible(evaluator)

        # The civil servant's board: b first (both evaluators high), a second, and a flagged for discussion.
        servant = await new_page()
        await sign_in(servant, team["civil_servant"].email)
        await servant.goto(f"/challenges/{challenge.id}/board?stage={STAGE}")
        rows = await servant.locator("table tbody tr").all_inner_texts()
        assert b.company_org.name in rows[0] and rows[0].split("\t")[1].strip() == "1", rows
        assert a.company_org.name in rows[1] and rows[1].split("\t")[1].strip() == "2", rows
        flagged = await servant.locator(".warning", has_text="disagree most").inner_text()
        assert a.company_org.name in flagged and "74.0 points apart" in flagged
        await assert_accessible(servant)
