"""The challenge page leads a company (or its incubator) to its proposal: start one while the first stage is open,
or open the one it already has."""

from datetime import timedelta

import time_machine

from marketplace.accounts.tables import PortfolioLink
from marketplace.core.clock import now
from tests.factories import make_org, make_user, signed_in_client
from tests.factories_challenges import make_buyer_team, make_challenge
from tests.factories_proposals import make_proposal


async def test_company_member_sees_start_a_proposal_while_the_first_stage_is_open(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    member = await signed_in_client(client, await make_user("company_member"))
    page = await member.get(f"/challenges/{challenge.id}")
    assert f'href="/challenges/{challenge.id}/propose"' in page.text and "Start a proposal" in page.text


async def test_company_with_a_proposal_is_led_to_it_instead(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    company = await make_org("company", name="Triagix")
    proposal = await make_proposal(challenge, company, stage="expression_of_interest")
    member = await signed_in_client(client, await make_user("company_member", org=company))
    page = await member.get(f"/challenges/{challenge.id}")
    assert f'href="/proposals/{proposal.id}"' in page.text and "Open the proposal of Triagix" in page.text
    assert f'href="/challenges/{challenge.id}/propose"' not in page.text


async def test_no_start_button_once_the_first_stage_closed(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org, schedule={"expression_of_interest": now() + timedelta(hours=1)})
    member = await signed_in_client(client, await make_user("company_member"))
    with time_machine.travel(now() + timedelta(hours=2), tick=False):
        page = await member.get(f"/challenges/{challenge.id}")
    assert f'href="/challenges/{challenge.id}/propose"' not in page.text
    assert "Proposals can be started only while the first stage is open." in page.text


async def test_incubator_member_starts_for_a_consenting_company_only(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    incubator = await make_org("incubator")
    amina = await make_user("incubator_member", org=incubator)
    alone = await signed_in_client(client, amina)
    page = await alone.get(f"/challenges/{challenge.id}")
    assert "/propose" not in page.text and "You need a company, or a portfolio company that consented" in page.text
    company = await make_org("company")
    await PortfolioLink.insert(PortfolioLink(incubator=incubator.id, company=company.id, status="accepted"))
    page = await alone.get(f"/challenges/{challenge.id}")
    assert f'href="/challenges/{challenge.id}/propose"' in page.text


async def test_buyer_team_and_visitors_see_no_start_button(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    assert "/propose" not in (await client.get(f"/challenges/{challenge.id}")).text
    servant = await signed_in_client(client, team.civil_servant)
    assert "/propose" not in (await servant.get(f"/challenges/{challenge.id}")).text


async def test_buyer_team_is_led_to_the_board_reports_award_and_contracts(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org, schedule={"expression_of_interest": now() + timedelta(hours=1)})
    officer = await signed_in_client(client, team.officer)
    page = (await officer.get(f"/challenges/{challenge.id}")).text
    assert f'href="/challenges/{challenge.id}/board"' in page and f'href="/challenges/{challenge.id}/award"' in page
    assert "/stages/expression_of_interest/report" not in page  # sealed until the deadline
    with time_machine.travel(now() + timedelta(hours=2), tick=False):
        page = (await officer.get(f"/challenges/{challenge.id}")).text
    assert f'href="/challenges/{challenge.id}/stages/expression_of_interest/report"' in page


async def test_civil_servant_gets_no_award_link_and_everyone_gets_the_brief(client):
    team = await make_buyer_team()
    challenge = await make_challenge(team.org)
    public = (await client.get(f"/challenges/{challenge.id}")).text
    assert f'href="/challenges/{challenge.id}/brief.pdf"' in public and "/board" not in public
    servant = await signed_in_client(client, team.civil_servant)
    page = (await servant.get(f"/challenges/{challenge.id}")).text
    assert f'href="/challenges/{challenge.id}/board"' in page and "/award" not in page
