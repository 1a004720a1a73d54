"""In Chromium: a company mistypes a word and still finds the challenge, follows "did you mean", saves the search
(words and a filter) as an alert, reads it in plain words, and is told when a matching challenge is published."""

from marketplace.challenges.tables import Subscription
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import make_user, token_for
from tests.factories_challenges import make_buyer_team, make_challenge, make_draft

PLAIN = {"summary": "Callers wait too long at peaks.", "affected_users": "Callers.", "desired_outcomes": "Faster answers.",
         "problem": "Operators cannot tell which call is the most urgent."}


async def test_a_typo_finds_the_challenge_and_the_search_becomes_an_alert(page, client):
    team = await make_buyer_team()
    await make_challenge(team.org, **PLAIN, title="Triage of emergency calls", topics=["public safety"])
    await make_challenge(team.org, **{**PLAIN, "problem": "Potholes."}, title="Road repairs", topics=["mobility"])
    lena = await make_user("company_member", name="Lena Claes")
    await sign_in(page, lena.email)

    await page.goto("/challenges")
    await page.get_by_role("searchbox", name="Search").fill("emergncy")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.wait_for_url("**/challenges?q=emergncy**")
    main = page.locator("main")
    assert "No challenge contains “emergncy”. These contain similar words." in await main.inner_text()
    assert await page.get_by_role("link", name="Triage of emergency calls").is_visible()
    assert not await page.get_by_role("link", name="Road repairs").is_visible()
    await assert_accessible(page)

    await page.get_by_role("link", name="emergency", exact=True).click()  # did you mean: emergency
    await page.wait_for_url("**/challenges?q=emergency")
    assert await page.get_by_role("searchbox", name="Search").input_value() == "emergency"
    assert "similar words" not in await main.inner_text()
    assert await page.get_by_role("link", name="Triage of emergency calls").is_visible()

    await page.get_by_text("Filters and sorting").click()
    await page.get_by_label("Topic").fill("public safety")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.wait_for_url("**topic=public+safety**")
    await page.get_by_role("button", name="Save this search as an alert").click()
    await page.wait_for_url("**/subscriptions")
    text = await main.inner_text()
    assert "Search saved." in text
    assert "New challenges containing emergency, on the topic public safety." in text
    await assert_accessible(page)
    assert await Subscription.count() == 1

    draft = await make_draft(team.org, **PLAIN, title="Emergency shelters in heatwaves", topics=["public safety"])
    other = await make_draft(team.org, **PLAIN, title="Emergency bridges", topics=["mobility"])
    for challenge in (draft, other):
        published = await client.post(f"/api/v1/challenges/{challenge.id}/publish", headers=await token_for(team.officer))
        assert published.status_code == 200, published.text
    await page.goto("/notifications")
    told = await main.inner_text()
    assert "New challenge for you: Emergency shelters in heatwaves" in told
    assert "Emergency bridges" not in told
    await assert_accessible(page)
