"""A founder signs her company up through the real pages, in Chromium, and lands on her account."""

from marketplace.accounts.tables import Membership, Organisation, User
from tests.browser.conftest import assert_accessible, sign_in
from tests.factories import mailed_link


async def test_a_company_signs_up_through_the_pages_and_lands_on_its_account(page):
    await page.goto("/")
    await page.get_by_role("link", name="Sign up").first.click()
    await page.wait_for_url("**/signup")
    await assert_accessible(page)

    await page.get_by_label("Your full name").fill("Lena Claes")
    await page.get_by_label("E-mail address").fill("lena@triagevoice.be")
    await page.get_by_label("Password").fill("a long enough passphrase")
    await page.get_by_label("It is").select_option("company")
    await page.get_by_label("Organisation name").fill("TriageVoice")
    await page.get_by_label("Country (two-letter code)").fill("BE")
    await page.get_by_label("Size (optional)").select_option("micro")
    await page.get_by_role("button", name="Create account").click()
    await page.get_by_role("heading", name="Check your e-mail").wait_for()
    await assert_accessible(page)
    assert await User.count() == 0  # nothing exists until the address is confirmed

    await page.goto(f"/links/{await mailed_link('lena@triagevoice.be', 'confirm_registration')}")
    await page.get_by_role("button", name="Create my account").click()
    await page.wait_for_url("**/account**")
    assert await page.get_by_role("heading", level=1).count() == 1
    assert "TriageVoice" in await page.locator("main").inner_text()
    await assert_accessible(page)

    user = await User.objects().where(User.email == "lena@triagevoice.be").first()
    org = await Organisation.objects().where(Organisation.name == "TriageVoice").first()
    assert org.kind == "company" and org.size == "micro"
    assert await Membership.exists().where((Membership.user == user.id) & (Membership.role == "company_member"))


async def test_a_weak_password_is_shown_next_to_its_field(page):
    await page.goto("/signup")
    await page.get_by_label("Your full name").fill("Lena Claes")
    await page.get_by_label("E-mail address").fill("lena@triagevoice.be")
    await page.get_by_label("Password").fill("short")
    await page.get_by_label("Organisation name").fill("TriageVoice")
    await page.get_by_role("button", name="Create account").click()
    await page.wait_for_selector("#f-password-error")
    assert await page.get_attribute("#f-password", "aria-invalid") == "true"
    await assert_accessible(page)
    assert await User.count() == 0


async def test_sign_in_and_out(page):
    from tests.factories import make_user

    user = await make_user("company_member")
    await sign_in(page, user.email)
    assert page.url.endswith("/proposals")  # a company lands on its proposals
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_selector("text=You are signed out.")
    await page.goto("/account")
    assert "/signin" in page.url
