"""A civil servant finishes a draft and asks for approval; the buyer's procurement officers are told and find it waiting."""

import re

from marketplace.accounts.tables import User
from marketplace.challenges.tables import Challenge
from marketplace.core.i18n import current_locale
from marketplace.mail.services import notification_title
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import csrf_token, make_user, signed_in_client
from tests.factories_challenges import make_buyer_team, make_draft


def read_in(locale: str, row: dict) -> str:
    """A notification's title as a reader using `locale` sees it."""
    token = current_locale.set(locale)
    try:
        return notification_title(row)
    finally:
        current_locale.reset(token)


async def test_civil_servant_requests_approval_and_officers_are_told(client):
    team = await make_buyer_team()
    colleague = await make_user("procurement_officer", org=team.org, email="luc@example.be")
    await User.update({User.locale: "nl"}).where(User.id == colleague.id)
    draft = await make_draft(team.org, title="Triage at peaks")
    servant = await signed_in_client(client, team.civil_servant)
    editor = await servant.get(f"/challenges/{draft.id}/edit")
    assert f'action="/challenges/{draft.id}/request-approval"' in editor.text
    asked = await servant.post(f"/challenges/{draft.id}/request-approval", data={"_csrf_token": await csrf_token(servant, f"/challenges/{draft.id}/edit")})
    assert asked.status_code == 303 and "Approval requested" in (await servant.get(asked.headers["location"])).text

    notes = await Notification.select().where(Notification.kind == "approval_requested")
    assert {n["user"] for n in notes} == {team.officer.id, colleague.id}
    assert {n["title"] for n in notes} == {"A draft awaits your approval: Triage at peaks"}  # English; read in the reader's language
    assert {read_in("nl", n) for n in notes} == {"Een ontwerp wacht op uw goedkeuring: Triage at peaks"}
    assert all(n["link"] == f"/challenges/{draft.id}/publish" for n in notes)
    mails = await OutboxMessage.select().where(OutboxMessage.kind == "approval_requested")
    assert sorted(m["to_address"] for m in mails) == sorted([team.officer.email, "luc@example.be"])

    officer = await signed_in_client(client, team.officer)
    mine = await officer.get("/my/challenges")
    assert "Awaiting your approval" in mine.text and f'href="/challenges/{draft.id}/publish"' in mine.text
    assert 'href="/challenges/new"' not in mine.text  # officers do not write challenges


async def test_an_incomplete_draft_is_not_sent_and_says_what_is_missing(client):
    team = await make_buyer_team()
    draft = await make_draft(team.org, problem="")
    servant = await signed_in_client(client, team.civil_servant)
    asked = await servant.post(f"/challenges/{draft.id}/request-approval", data={"_csrf_token": await csrf_token(servant, f"/challenges/{draft.id}/edit")})
    assert asked.status_code == 303 and asked.headers["location"] == f"/challenges/{draft.id}/edit"
    editor = (await servant.get(asked.headers["location"])).text
    assert 'role="alert"' in editor and "class=\"notice\"" not in editor  # an error looks like an error
    assert "The problem: is required before publication" in editor  # named by its label, not its key
    assert 'id="f-problem-error"' in editor and 'aria-invalid="true"' in editor  # and the field is marked
    assert await Notification.count().where(Notification.kind == "approval_requested") == 0
    assert (await Challenge.select(Challenge.approval_requested_at).where(Challenge.id == draft.id).first())["approval_requested_at"] is None


async def test_only_the_buyers_civil_servants_may_request_approval(client):
    team = await make_buyer_team()
    draft = await make_draft(team.org)
    officer = await signed_in_client(client, team.officer)
    token = await csrf_token(officer, "/my/challenges")
    assert (await officer.post(f"/challenges/{draft.id}/request-approval", data={"_csrf_token": token})).status_code == 403
    other = await signed_in_client(client, await make_user("civil_servant"))
    token = await csrf_token(other, "/my/challenges")
    assert (await other.post(f"/challenges/{draft.id}/request-approval", data={"_csrf_token": token})).status_code == 404
    servant = await signed_in_client(client, team.civil_servant)
    assert 'href="/challenges/new"' in (await servant.get("/my/challenges")).text


async def test_the_officer_sends_the_draft_back_with_comments_then_publishes_what_changed(client):
    from tests.factories import token_for

    team = await make_buyer_team()
    draft = await make_draft(team.org, title="Triage at peaks", summary="Calls wait too long.")
    author, officer = await token_for(team.civil_servant), await token_for(team.officer)
    requested = await client.post(f"/api/v1/challenges/{draft.id}/request-approval", headers=author)
    assert requested.status_code == 200 and requested.json()["state"] == "pending"

    refused = await client.post(f"/api/v1/challenges/{draft.id}/send-back", headers=officer,
                                json={"comments": [{"field": "nonsense", "text": "?"}]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "comments[0].field"
    assert (await client.post(f"/api/v1/challenges/{draft.id}/send-back", headers=author,
                              json={"comments": [{"text": "Looks fine."}]})).status_code == 403
    sent_back = await client.post(f"/api/v1/challenges/{draft.id}/send-back", headers=officer, json={"comments": [
        {"field": "summary", "text": "Say how long calls wait today."}, {"text": "Otherwise ready."}]})
    assert sent_back.status_code == 200, sent_back.text
    assert sent_back.json()["state"] == "sent_back" and len(sent_back.json()["comments"]) == 2
    mails = await OutboxMessage.select().where(OutboxMessage.kind == "draft_sent_back")
    assert [m["to_address"] for m in mails] == [team.civil_servant.email]
    assert "Say how long calls wait today." in mails[0]["body_text"]

    page = await (await signed_in_client(client, team.civil_servant)).get(f"/challenges/{draft.id}/edit")
    assert 'id="f-summary-comment"' in page.text and "Say how long calls wait today." in page.text
    mine = await client.get("/my/challenges")
    assert "sent back with comments" in mine.text

    await Challenge.update({Challenge.summary: "Calls wait 40 seconds at peaks."}).where(Challenge.id == draft.id)
    assert (await client.post(f"/api/v1/challenges/{draft.id}/request-approval", headers=author)).status_code == 200
    state = (await client.get(f"/api/v1/challenges/{draft.id}/approval", headers=officer)).json()
    assert state["state"] == "pending" and state["changes"] == ["summary"]
    officer_page = await (await signed_in_client(client, team.officer)).get(f"/challenges/{draft.id}/publish")
    assert "Changed since you sent it back" in officer_page.text and "Calls wait 40 seconds at peaks." in officer_page.text
    assert "As the public will see it" in officer_page.text
    published = await client.post(f"/api/v1/challenges/{draft.id}/publish", headers=officer)
    assert published.status_code == 200, published.text
    assert (await client.get(f"/api/v1/challenges/{draft.id}/approval", headers=officer)).json()["state"] == "published"


async def test_the_officer_sends_back_through_the_page(client):
    team = await make_buyer_team()
    draft = await make_draft(team.org, title="Triage at peaks")
    officer = await signed_in_client(client, team.officer)
    token = await csrf_token(officer, f"/challenges/{draft.id}/publish")
    empty = await officer.post(f"/challenges/{draft.id}/send-back", data={"_csrf_token": token})
    assert empty.status_code == 422 and "Write at least one comment" in empty.text
    sent = await officer.post(f"/challenges/{draft.id}/send-back",
                              data={"_csrf_token": token, "comment_problem": "Too vague: how often does it happen?"})
    assert sent.status_code == 303
    rounds = (await Challenge.select(Challenge.approval_requested_at).where(Challenge.id == draft.id).first())
    assert rounds["approval_requested_at"] is None


async def test_what_is_missing_is_said_in_the_readers_language(client):
    team = await make_buyer_team()
    draft = await make_draft(team.org, problem="", summary="")
    servant = await signed_in_client(client, team.civil_servant)
    client.cookies.set("mp_lang", "nl")
    asked = await servant.post(f"/challenges/{draft.id}/request-approval", data={"_csrf_token": await csrf_token(servant, f"/challenges/{draft.id}/edit")})
    editor = (await servant.get(asked.headers["location"])).text
    visible = re.sub(r"<[^>]+>", " ", editor)
    assert "Nog niet verstuurd" in visible and "Still missing" not in visible and "affected_users" not in visible
    assert "Samenvatting: " in editor
