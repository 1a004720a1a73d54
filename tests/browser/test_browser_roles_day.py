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
