"""A company, in Chromium, goes from "set up payouts" through the sandbox's onboarding page to a paid
milestone: the app's Stripe SDK talks to the sandbox over real loopback HTTP, and the sandbox's
signed webhook reaches the app the same way."""

from marketplace.payments import http, payouts
from marketplace.payments.sandbox.delivery import deliver_sandbox_events
from marketplace.payments.tables import PaymentAccount, Payout
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories_payments import make_experiment, top_up


async def test_company_onboards_delivers_and_is_paid(server, new_page, override_settings, app, tmp_dir):
    override_settings(base_url=server)
    http.use_transport(None)  # real HTTP to the uvicorn server: SDK calls, sandbox pages, webhooks
    try:
        experiment_id, _servant, officer, founder = await make_experiment(milestones=1, amount_cents=750_000)
        company = await new_page()
        await sign_in(company, founder.email)
        await company.goto(f"/experiments/{experiment_id}")
        await assert_accessible(company)

        await company.get_by_role("button", name="Set up payouts").click()
        await company.wait_for_url("**/sandbox/stripe/connect/onboarding/**")
        await company.get_by_role("button", name="Complete onboarding").click()
        await company.wait_for_url(f"**/experiments/{experiment_id}**")
        assert await deliver_sandbox_events() >= 1  # account.updated, signed, over HTTP
        assert (await PaymentAccount.select().first())["payouts_enabled"] is True

        report = tmp_dir / "pilot-report.pdf"
        report.write_bytes(b"%PDF-1.7\n%%EOF\n")
        await company.reload()
        assert await company.get_by_role("button", name="Set up payouts").count() == 0
        await company.get_by_label("Report").fill("The pilot handled 2,310 calls.")
        await company.get_by_label("Files").set_input_files(str(report))
        async with company.expect_navigation():
            await company.get_by_role("button", name="Submit deliverable").click()
        assert "Deliverable submitted" in await company.locator(".notice").inner_text()

        buyer = await new_page()
        await sign_in(buyer, officer.email)
        await buyer.goto(f"/experiments/{experiment_id}")
        await buyer.get_by_label("Accept: the payout starts").check()
        async with buyer.expect_navigation():
            await buyer.get_by_role("button", name="Save review").click()
        assert "Milestone accepted" in await buyer.locator(".notice").inner_text()
        await buyer.goto("/payments")
        assert "30 days left to pay" in await buyer.locator("main").inner_text()
        await assert_accessible(buyer)

        await top_up(1_000_000)
        assert await payouts.execute_due_payouts() == 1
        await company.reload()
        assert "Paid on" in await company.locator("main").inner_text()
        payout = await Payout.select().first()
        assert payout["status"] == "paid" and payout["stripe_transfer_id"].startswith("tr_")
    finally:
        from tests.factories_payments import route_payments_to

        route_payments_to(app)
