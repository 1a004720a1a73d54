"""In Chromium: a civil servant goes from an empty draft to a published challenge, and a company goes
from a search to asking a question."""

from marketplace.challenges.tables import Challenge, Question
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import make_user
from tests.factories_challenges import make_buyer_team


async def test_civil_servant_drafts_and_officer_publishes_then_a_company_asks(page, new_page):
    team = await make_buyer_team()
    await sign_in(page, team.civil_servant.email)
    await page.goto("/challenges/new")
    await assert_accessible(page)
    await page.get_by_label("Title").fill("Triage of 112 calls at peak times")
    await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_url("**/challenges/*/edit**")
    challenge = await Challenge.objects().first()
    assert challenge.status == "draft"

    await page.get_by_label("Summary").fill("Callers wait too long when the centres are saturated.")
    await page.get_by_label("The problem").fill("Operators cannot tell which waiting call is the most urgent.")
    await page.get_by_label("Who is affected").fill("Callers in distress and the call-takers.")
    await page.get_by_label("Desired outcomes").fill("Life-threatening calls recognised within 30 seconds.")
    await page.get_by_label("Topics").fill("public safety, speech")
    await page.get_by_label("CPV codes").fill("72212000-5")
    await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_selector("#f-cpv_codes-error")
    assert "did you mean 72212000-4?" in await page.locator("#f-cpv_codes-error").inner_text()
    await assert_accessible(page)
    await page.get_by_label("CPV codes").fill("72212000-4")
    await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_url("**/edit")
    await page.wait_for_selector(".notice")

    officer = await new_page()
    await sign_in(officer, team.officer.email)
    await officer.goto(f"/challenges/{challenge.id}/publish")
    assert "Complete: it can be published." in await officer.locator("main").inner_text()
    await assert_accessible(officer)
    await officer.get_by_role("button", name="Approve and publish").click()
    await officer.wait_for_url(f"**/challenges/{challenge.id}")
    assert (await Challenge.objects().first()).status == "published"

    company = await new_page()
    lena = await make_user("company_member", name="Lena Claes")
    await sign_in(company, lena.email)
    await company.goto("/challenges")
    await company.get_by_role("searchbox", name="Search").fill("urgent triage")
    await company.get_by_role("button", name="Search").click()
    await company.get_by_role("link", name="Triage of 112 calls at peak times").click()
    await company.wait_for_url(f"**/challenges/{challenge.id}")
    await assert_accessible(company)
    await company.get_by_label("Your question").fill("Must the triage work in German too?")
    await company.get_by_role("button", name="Ask the question").click()
    await company.wait_for_url(f"**/challenges/{challenge.id}#questions")
    assert "without your name" in await company.locator("main").inner_text()
    question = await Question.objects().first()
    assert question.text == "Must the triage work in German too?" and question.asked_by == lena.id
