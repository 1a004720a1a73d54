"""A civil servant finishes a draft and asks for approval; the buyer's procurement officers are told and find it waiting."""

from marketplace.accounts.tables import User
from marketplace.challenges.tables import Challenge
from marketplace.mail.tables import Notification, OutboxMessage
from tests.factories import csrf_token, make_user, signed_in_client
from tests.factories_challenges import make_buyer_team, make_draft


async def test_civil_servant_requests_approval_and_officers_are_told(client):
    team = await make_buyer_team()
    colleague = await make_user("procurement_officer", org=team.org, email="luc@example.be")
    await User.update({User.locale: "nl"}).where(User.id == colleague.id)
    draft = await make_draft(team.org, title="Triage at peaks")
    servant = await signed_in_client(client, team.civil_servant)
    editor = await servant.get(f"/challenges/{draft.id}/edit")
    assert f'action="/challenges/{draft.id}/request-approval"' in editor.text
    asked = await servant.post(f"/challenges/{draft.id}/request-approval", data={"_csrf_token": await csrf_token(servant, f"/challenges/{draft.id}/edit")})
    assert asked.status_code == 303 and "Approval+requested" in asked.headers["location"].replace("%20", "+")

    notes = await Notification.select().where(Notification.kind == "approval_requested")
    assert {n["user"] for n in notes} == {team.officer.id, colleague.id}
    assert {n["title"] for n in notes} == {"A draft awaits your approval: Triage at peaks", "Een ontwerp wacht op uw goedkeuring: Triage at peaks"}
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
    assert asked.status_code == 303 and "problem" in asked.headers["location"]
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
