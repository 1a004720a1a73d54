"""The home page says what awaits you (issue #15): visitors see the open challenges closing soonest and a search box;
each signed-in role sees its own work, every item linking to the page where it is done, with the right counts."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from marketplace.awards.tables import Award, Contract, Objection, Signature
from marketplace.challenges.tables import Challenge, Question
from marketplace.core.clock import now
from marketplace.core.money import format_money
from marketplace.documents.tables import Document
from marketplace.evaluation.tables import Score
from marketplace.experiments.tables import Milestone
from marketplace.mail.services import notify
from marketplace.payments.tables import Payout
from marketplace.proposals.tables import Decision
from tests.factories import make_org, make_user, signed_in_client
from tests.factories_challenges import make_challenge, make_draft
from tests.factories_contracts import make_award_setting
from tests.factories_contracts import make_challenge as make_past_challenge
from tests.factories_payments import make_experiment
from tests.factories_proposals import make_evaluator, make_open_challenge, make_proposal

DAY = timedelta(days=1)
SECTION = re.compile(r'<section class="card home-section" aria-labelledby="([\w-]+)" data-section="[\w-]+" data-count="(\d+)">(.*?)</section>',
                     re.S)


def sections(html: str) -> dict[str, tuple[int, list[str]]]:
    """role-section -> (the count it shows, the links of its items in order)."""
    out = {}
    for key, count, body in SECTION.findall(html):
        heading_count = re.search(r'<span class="tag">(\d+)</span>', body)
        assert heading_count and heading_count.group(1) == count, body  # what the reader sees is the count
        out[key] = (int(count), re.findall(r'<li data-count="\d+"><a href="([^"]+)"', body))
    return out


async def home_of(client, user) -> str:
    await signed_in_client(client, user)
    response = await client.get("/")
    assert response.status_code == 200
    return response.text


async def test_a_visitor_sees_the_open_challenges_closing_soonest_and_a_search_box(client):
    later = await make_open_challenge(title="Quiet night buses", start=now() - 2 * DAY)
    sooner = await make_open_challenge(title="Cooler school playgrounds", start=now() - 20 * DAY)
    await make_draft(title="A draft nobody sees")
    await make_past_challenge(title="A challenge whose stages all closed")
    page = (await client.get("/")).text
    open_list = page[page.index('id="open-challenges"'):]
    assert open_list.index("Cooler school playgrounds") < open_list.index("Quiet night buses")
    assert f'href="/challenges/{sooner.id}"' in open_list and f'href="/challenges/{later.id}"' in open_list
    assert "A draft nobody sees" not in page and "A challenge whose stages all closed" not in page
    assert re.search(r'<form method="get" action="/challenges"[^>]*role="search"', page)
    assert 'name="q" type="search"' in page and '<label for="home-q">' in page
    assert re.search(r"\d\d:\d\d (CET|CEST)", open_list)  # Belgian time, with its zone
    assert "How it works" in page and "Sign up your company" in page  # the landing page is still there
    assert "What awaits you" not in page


async def test_a_civil_servant_sees_questions_to_answer_proposals_to_decide_and_deliverables_to_review(client):
    experiment_id, servant, _officer, _founder = await make_experiment()
    body = servant.org
    asked = await make_challenge(body, title="Safer crossings")
    for text, answer in (("Which schools?", None), ("Which hours?", None), ("Budget?", "EUR 30,000")):
        await Question.insert(Question(challenge=asked.id, text=text, asked_at=now() - DAY, answer=answer,
                                       answered_at=now() if answer else None))
    elsewhere = await make_challenge(title="Someone else's challenge")
    await Question.insert(Question(challenge=elsewhere.id, text="Not for you", asked_at=now()))
    closed = await make_open_challenge(body, title="Faster permits", start=now() - 40 * DAY)
    await make_proposal(closed, status="submitted")  # no decision yet
    decided = await make_proposal(closed, status="submitted")
    await Decision.insert(Decision(proposal=decided.id, stage=closed.current_stage, outcome="advance", feedback="Strong plan."))
    ready = await make_open_challenge(body, title="Decided, not closed", start=now() - 50 * DAY)
    for outcome in ("advance", "reject"):
        proposal = await make_proposal(ready, status="submitted")
        await Decision.insert(Decision(proposal=proposal.id, stage=ready.current_stage, outcome=outcome, feedback="Clear."))
    still_open = await make_open_challenge(body, title="Still open")
    await make_proposal(still_open, status="submitted")  # sealed until its deadline: nothing to decide yet
    milestones = await Milestone.select().where(Milestone.experiment == experiment_id).order_by(Milestone.position)
    await Milestone.update({Milestone.status: "submitted", Milestone.submitted_at: now()}).where(Milestone.id == milestones[0]["id"])

    page = await home_of(client, servant)
    found = sections(page)
    assert found["civil_servant-answer"] == (2, [f"/challenges/{asked.id}/questions"])
    assert "2 questions without an answer" in page
    assert found["civil_servant-decide"] == (2, [f"/challenges/{ready.id}/board?stage={ready.current_stage}",  # closed first
                                                 f"/challenges/{closed.id}/board?stage={closed.current_stage}"])
    assert "every proposal has its decision: close the stage to tell the companies" in page
    assert found["civil_servant-review"] == (1, [f"/experiments/{experiment_id}#milestone-{milestones[0]['id']}"])
    assert "€5,000.00" in page  # the milestone's amount, with its currency
    assert "procurement_officer-approve" not in found  # a role they do not hold shows nothing
    assert "How it works" not in page
    for _key, (_count, links) in found.items():
        for link in links:
            assert (await client.get(link)).status_code == 200, link


async def test_a_procurement_officer_sees_approvals_awards_standstill_signatures_and_payouts(client):
    setting = await make_award_setting()
    officer, body = setting.officer, setting.buyer
    draft = await make_draft(body, title="Greener fleets", approval_requested_at=now() - DAY,
                             approval_requested_by=setting.civil_servant.id)
    await make_draft(body, title="Not asked yet")
    # an award of another challenge in its standstill, with one open objection
    other = await make_past_challenge(body, title="Smarter street lights")
    winner = await make_proposal(other, status="awarded", stage="pitch")
    award = Award(challenge=other.id, proposal=winner.id, company=winner.company_org.id, buyer=body.id, amount_cents=2_000_000,
                  standstill_ends_at=now() + 5 * DAY, starts_on=(now() + 6 * DAY).date())
    await award.save()
    await Objection.insert(Objection(award=award.id, company=(await make_org("company")).id, text="Our price was lower."))
    # two issued contracts: one the company signed, one the buyer already signed
    contracts = []
    for number in ("C-2026-0101", "C-2026-0102"):
        a = Award(challenge=other.id, proposal=(await make_proposal(other, status="awarded", stage="pitch")).id,
                  company=winner.company_org.id, buyer=body.id, amount_cents=1_000_000, status="contracted",
                  standstill_ends_at=now() - DAY, starts_on=now().date())
        await a.save()
        document = Document(kind="contract", subject_type="contract", subject_id=str(uuid.uuid4()), sha256="0" * 64,
                            path=f"{number}.pdf")
        await document.save()
        contract = Contract(award=a.id, challenge=other.id, buyer=body.id, company=winner.company_org.id, number=number,
                            status="issued", issued_at=now() - DAY, document=document.id)
        await contract.save()
        contracts.append((contract, document))
    for (contract, document), party, org in ((contracts[0], "company", winner.company_org.id), (contracts[1], "buyer", body.id)):
        await Signature.insert(Signature(contract=contract.id, party=party, organisation=org, user=officer.id, signer_name="X",
                                         document=document.id, document_sha256="0" * 64))
    experiment_id, *_ = await make_experiment(buyer_org=body)
    milestone = (await Milestone.select().where(Milestone.experiment == experiment_id))[0]
    await Payout.insert(Payout(milestone=milestone["id"], experiment=experiment_id, company=winner.company_org.id, buyer=body.id,
                               amount_cents=1_234_500, status="waiting", idempotency_key="home-1", transfer_group="g",
                               accepted_at=now() - DAY, due_by=now() + 29 * DAY))

    page = await home_of(client, officer)
    found = sections(page)
    assert found["procurement_officer-approve"] == (1, [f"/challenges/{draft.id}/publish"])
    assert found["procurement_officer-award"] == (1, [f"/challenges/{setting.challenge.id}/award"])
    assert found["procurement_officer-standstill"] == (1, [f"/awards/{award.id}"])
    assert "1 objection to answer" in page
    assert found["procurement_officer-sign-buyer"] == (1, [f"/contracts/{contracts[0][0].id}"])
    assert found["procurement_officer-pay"] == (1, ["/payments"])
    assert "€12,345.00" in page
    assert "Not asked yet" not in page


async def test_a_company_sees_its_drafts_deadlines_contracts_milestones_and_payouts(client):
    experiment_id, _servant, _officer, founder = await make_experiment(milestones=2)
    company = founder.org
    soon = await make_open_challenge(title="Cleaner canals", start=now() - 20 * DAY)
    later = await make_open_challenge(title="Shorter queues", start=now() - DAY)
    draft = await make_proposal(later, company)
    submitted = await make_proposal(soon, company, status="submitted")
    past = await make_open_challenge(title="Long closed", start=now() - 60 * DAY)
    await make_proposal(past, company)  # its stage closed: no deadline left
    milestones = await Milestone.select().where(Milestone.experiment == experiment_id).order_by(Milestone.position)
    await Milestone.update({Milestone.status: "accepted", Milestone.accepted_at: now()}).where(Milestone.id == milestones[0]["id"])
    await Payout.insert(Payout(milestone=milestones[0]["id"], experiment=experiment_id, company=company.id, buyer=_servant.org.id,
                               amount_cents=500_000, status="pending", idempotency_key="home-2", transfer_group="g",
                               accepted_at=now(), due_by=now() + 30 * DAY))

    client.cookies.set("mp_lang", "fr")
    page = await home_of(client, founder)
    found = sections(page)
    assert found["company_member-drafts"] == (2, [f"/proposals/{submitted.id}", f"/proposals/{draft.id}"])  # soonest first
    assert found["company_member-deliver"] == (1, [f"/experiments/{experiment_id}#milestone-{milestones[1]['id']}"])
    assert found["company_member-payouts"] == (1, ["/payments"])
    assert found["company_member-sign-company"] == (0, [])
    assert "Ce qui vous attend" in page and format_money(500_000, "EUR", "fr") in page  # the payout, in the reader's format


async def test_an_evaluator_sees_declarations_to_make_and_what_is_left_to_score(client):
    buyer = await make_org("public_body")
    scoring = await make_open_challenge(buyer, title="Fewer false alarms", start=now() - 40 * DAY)
    first, second, _third = [await make_proposal(scoring, status="submitted") for _ in range(3)]
    evaluator = await make_evaluator(scoring, buyer)
    from marketplace.procedures import engine

    criteria = [c.key for c in engine.latest("light").stage(scoring.current_stage).criteria]
    for proposal, keys in ((first, criteria), (second, criteria[:1])):  # one done, one started, one to do
        for key in keys:
            await Score.insert(Score(proposal=proposal.id, stage=scoring.current_stage, criterion=key, evaluator=evaluator.id,
                                     value=3, justification="Fine."))
    undeclared = await make_open_challenge(buyer, title="Cleaner air")
    from marketplace.evaluation.tables import EvaluatorAssignment

    await EvaluatorAssignment.insert(EvaluatorAssignment(challenge=undeclared.id, evaluator=evaluator.id))
    conflicted = await make_open_challenge(buyer, title="Conflicted", start=now() - 40 * DAY)
    await make_proposal(conflicted, status="submitted")
    conflicted_evaluator = await make_evaluator(conflicted, buyer, conflict=True)

    page = await home_of(client, evaluator)
    found = sections(page)
    assert found["evaluator-score"] == (3, [f"/challenges/{undeclared.id}/declaration",
                                            f"/challenges/{scoring.id}/board?stage={scoring.current_stage}"])
    assert "2 of 3 proposals left to score" in page
    client.cookies.clear()
    assert sections(await home_of(client, conflicted_evaluator))["evaluator-score"] == (0, [])


async def test_an_incubator_sees_its_portfolio_pipeline_of_consenting_companies_only(client):
    from marketplace.accounts.tables import PortfolioLink

    coach = await make_user("incubator_member")
    consenting, refusing = await make_org("company", name="Aardvark Robotics"), await make_org("company", name="Zebra Labs")
    await PortfolioLink.insert(PortfolioLink(incubator=coach.org.id, company=consenting.id, status="accepted"),
                               PortfolioLink(incubator=coach.org.id, company=refusing.id, status="pending"))
    for status in ("draft", "draft", "submitted"):
        await make_proposal(await make_open_challenge(), consenting, status=status)
    await make_proposal(await make_open_challenge(), refusing)
    page = await home_of(client, coach)
    found = sections(page)
    assert found["incubator_member-pipeline"] == (3, ["/proposals"])
    assert "draft: 2 · submitted: 1" in page and "Zebra Labs" not in page


async def test_someone_with_two_roles_sees_both_and_only_their_own_bodies_work(client):
    body = await make_org("public_body")
    person = await make_user("civil_servant", "procurement_officer", org=body)
    mine = await make_draft(body, approval_requested_at=now(), approval_requested_by=person.id)
    await make_draft(approval_requested_at=now())  # another public body's draft
    await notify(person.id, "approval_requested", "A draft awaits your approval: %(title)s", link="/my/challenges", title="x")
    page = await home_of(client, person)
    found = sections(page)
    assert '<a href="/notifications">1 unread notification</a>' in page
    assert {k.split("-")[0] for k in found} == {"civil_servant", "procurement_officer"}
    assert found["procurement_officer-approve"] == (1, [f"/challenges/{mine.id}/publish"])
    assert page.index('id="role-civil_servant"') < page.index('id="role-procurement_officer"')


@pytest.mark.parametrize(("lang", "heading", "questions"), [("fr", "Questions à traiter", "2 questions sans réponse"),
                                                             ("nl", "Te beantwoorden vragen", "2 vragen zonder antwoord")])
async def test_the_home_speaks_the_readers_language(client, lang, heading, questions):
    team_body = await make_org("public_body")
    servant = await make_user("civil_servant", org=team_body, locale=lang)
    challenge = await make_challenge(team_body)
    for text in ("One?", "Two?"):
        await Question.insert(Question(challenge=challenge.id, text=text, asked_at=now()))
    client.cookies.set("mp_lang", lang)
    page = await home_of(client, servant)
    assert heading in page and questions in page


async def test_questions_on_a_challenge_no_longer_published_wait_for_nobody(client):
    body = await make_org("public_body")
    servant = await make_user("civil_servant", org=body)
    closed = await make_challenge(body)
    await Question.insert(Question(challenge=closed.id, text="Late?", asked_at=now()))
    await Challenge.update({Challenge.status: "closed"}).where(Challenge.id == closed.id)
    assert sections(await home_of(client, servant))["civil_servant-answer"] == (0, [])


@pytest.mark.parametrize(("kind", "says"), [("admin", 'href="/admin/organisations"'), ("unconfirmed", "Confirm your e-mail address"),
                                            ("no role", "You hold no role on the platform yet.")])
async def test_someone_without_a_role_is_told_where_to_go_instead(client, kind, says):
    user = await make_user(admin=kind == "admin", verified=kind != "unconfirmed")
    page = await home_of(client, user)
    assert "What awaits you" in page and says in page and sections(page) == {}
