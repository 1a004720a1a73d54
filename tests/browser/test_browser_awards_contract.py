"""In Chromium: a procurement officer awards a selected proposal from the award form, the contract
is issued after the standstill, and the officer and the company both sign it on the contract page."""

from datetime import timedelta

from marketplace.awards.contracts import issue_due_contracts
from marketplace.awards.tables import Contract
from marketplace.core.clock import now
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories_contracts import make_award_setting


async def test_officer_awards_and_both_parties_sign_the_contract(page, new_page, override_settings):
    override_settings(standstill_days=0)  # no one objects in this story; the job issues the contract at once
    s = await make_award_setting()
    await sign_in(page, s.officer.email)
    await page.goto(f"/challenges/{s.challenge.id}/award")
    await assert_accessible(page)
    assert "TriageVoice BV" in await page.get_by_role("region", name="Ranking").inner_text()

    await page.get_by_label("Proposal").select_option(str(s.winner.id))
    await page.get_by_label("Price excluding VAT, in euros").fill("20000")
    for n, (title, amount, days, deliverable) in enumerate((("Prototype", "12000", 30, "A working prototype"),
                                                            ("Field test", "8000", 60, "The field test report")), 1):
        group = page.get_by_role("group", name=f"Milestone {n}")
        await group.get_by_label("Title").fill(title)
        await group.get_by_label("Amount in euros").fill(amount)
        await group.get_by_label("Due date").fill((now() + timedelta(days=days)).date().isoformat())
        await group.get_by_label("Deliverable").fill(deliverable)
    await page.get_by_role("button", name="Award", exact=True).click()
    await page.wait_for_url("**/awards/**")
    assert "€20,000.00" in await page.locator("main").inner_text()
    await assert_accessible(page)

    assert await issue_due_contracts() == 1
    contract = await Contract.objects().first()
    await page.get_by_role("link", name="The contract").click()
    await page.wait_for_url(f"**/contracts/{contract.id}")
    pdf_href = await page.get_by_role("link", name="Read the contract (PDF, version 1)").get_attribute("href")
    pdf = await page.request.get(pdf_href)
    assert pdf.headers["content-type"] == "application/pdf" and (await pdf.body()).startswith(b"%PDF")
    await assert_accessible(page)
    await page.get_by_label("I have read the contract (PDF)").check()
    await page.get_by_role("button", name="Sign for the buyer").click()
    await page.wait_for_load_state()
    assert "The contract becomes active when the other party signs." in await page.locator("main").inner_text()

    company = await new_page()
    await sign_in(company, s.winner_member.email)
    await company.goto("/contracts")
    await company.get_by_role("link", name=contract.number).click()
    await company.wait_for_url(f"**/contracts/{contract.id}")
    assert "Marc Dubois" in await company.locator("main").inner_text()
    await company.get_by_label("I have read the contract (PDF)").check()
    await company.get_by_role("button", name="Sign for the company").click()
    await company.wait_for_load_state()
    text = await company.locator("main").inner_text()
    assert "Both parties have signed: the experiment starts." in text and "Lena Claes" in text
    await assert_accessible(company)
    assert (await Contract.objects().first()).status == "active"
