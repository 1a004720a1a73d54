"""Public metrics: a journey whose numbers are known by hand, checked in the API, the CSV and the page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import time_machine

from marketplace.awards.tables import Award, Contract
from marketplace.challenges.tables import ChallengeStage, Question
from marketplace.core.clock import now
from marketplace.experiments.tables import Experiment, Milestone
from marketplace.payments.tables import Payout
from marketplace.proposals.tables import ProposalStage
from marketplace.transparency.metrics import public_metrics
from tests.factories import make_org
from tests.factories_proposals import make_open_challenge, make_proposal

DAY = timedelta(days=1)
NOW = now().replace(microsecond=0)


async def _bid(challenge, company, at):
    proposal = await make_proposal(challenge, company, status="submitted")
    await ProposalStage.update({ProposalStage.submitted_at: at}).where(ProposalStage.proposal == proposal.id)
    return proposal


async def _close_first_stage(challenge, closed_at, decided_after=None):
    stage = await ChallengeStage.select().where(ChallengeStage.challenge == challenge.id).order_by(ChallengeStage.position).first()
    await ChallengeStage.update({
        ChallengeStage.opens_at: closed_at - 20 * DAY, ChallengeStage.closes_at: closed_at,
        ChallengeStage.decided_at: closed_at + decided_after if decided_after else None,
    }).where(ChallengeStage.id == stage["id"])


async def _payout(experiment_id, buyer, company, amount, accepted_at, paid_at, position):
    milestone = Milestone(experiment=experiment_id, position=position, title=f"Milestone {position}", amount_cents=amount,
                          due_date=accepted_at.date(), status="accepted", accepted_at=accepted_at)
    await milestone.save()
    await Payout.insert(Payout(
        milestone=milestone.id, experiment=experiment_id, company=company.id, buyer=buyer.id, amount_cents=amount,
        status="paid" if paid_at else "waiting", idempotency_key=f"metrics-{milestone.id}", transfer_group="g",
        stripe_transfer_id=f"tr_metrics_{position}" if paid_at else None, accepted_at=accepted_at,
        due_by=accepted_at + 30 * DAY, paid_at=paid_at))


async def known_journey():
    """Two buyers. Ghent: one earlier challenge (one SME bid). Antwerp: a closed challenge with two
    bids (the same SME again, and a large first-time bidder), a draft that does not count, three
    questions (answered in 2 and 4 days, one open), a stage decided 3 days after its deadline, an
    award signed 6 days later, payouts paid after 5 and 40 days and one overdue, and two finished
    experiments (one scaled up, one stopped). Ghent also has an open challenge whose bid is sealed."""
    antwerp = await make_org("public_body", name="City of Antwerp")
    ghent = await make_org("public_body", name="City of Ghent")
    sme = await make_org("company", name="Small Co", size="small")
    large = await make_org("company", name="Large Co", size="large")
    drafter = await make_org("company", name="Drafter Co", size="micro")

    earlier = await make_open_challenge(ghent, start=NOW - 90 * DAY, title="Earlier")
    await _close_first_stage(earlier, NOW - 60 * DAY)
    await _bid(earlier, sme, NOW - 65 * DAY)

    main = await make_open_challenge(antwerp, start=NOW - 50 * DAY, title="Main")
    await _close_first_stage(main, NOW - 30 * DAY, decided_after=3 * DAY)
    winner = await _bid(main, sme, NOW - 35 * DAY)
    await _bid(main, large, NOW - 34 * DAY)
    await make_proposal(main, drafter)  # a draft: not a bid
    for asked, answered in ((NOW - 45 * DAY, NOW - 43 * DAY), (NOW - 44 * DAY, NOW - 40 * DAY), (NOW - 41 * DAY, None)):
        await Question.insert(Question(challenge=main.id, text="When?", asked_at=asked, answered_at=answered,
                                       answer="Soon." if answered else ""))

    sealed = await make_open_challenge(ghent, start=NOW - DAY, title="Still open")
    await _bid(sealed, large, NOW)

    award = Award(challenge=main.id, proposal=winner.id, company=sme.id,
                  buyer=antwerp.id, amount_cents=2_000_000, status="contracted", awarded_at=NOW - 28 * DAY,
                  standstill_ends_at=NOW - 18 * DAY, starts_on=(NOW - 20 * DAY).date())
    await award.save()
    contract = Contract(award=award.id, challenge=main.id, buyer=antwerp.id, company=sme.id, number="C-METRICS-1",
                        status="active", issued_at=NOW - 25 * DAY, activated_at=NOW - 22 * DAY)
    await contract.save()

    scaled = Experiment(buyer=antwerp.id, company=sme.id, challenge=main.id, contract_id=contract.id, title="Pilot",
                        status="finished", outcome="succeeded", follow_on="scale_up", finished_at=NOW - DAY)
    await scaled.save()
    stopped = Experiment(buyer=antwerp.id, company=large.id, title="Other pilot", status="finished", outcome="failed",
                         follow_on="stop", finished_at=NOW - DAY)
    await stopped.save()
    await _payout(scaled.id, antwerp, sme, 500_000, NOW - 80 * DAY, NOW - 75 * DAY, 1)  # 5 days: on time
    await _payout(scaled.id, antwerp, sme, 1_000_000, NOW - 80 * DAY, NOW - 40 * DAY, 2)  # 40 days: 10 days late
    await _payout(scaled.id, antwerp, sme, 300_000, NOW - 40 * DAY, None, 3)  # unpaid, 10 days overdue
    return antwerp, ghent


async def test_public_metrics_match_a_journey_counted_by_hand():
    antwerp, ghent = await known_journey()
    m = await public_metrics(NOW)
    by_name = {b["buyer"]["name"]: b for b in m["buyers"]}
    assert list(by_name) == ["City of Antwerp", "City of Ghent"]
    a = by_name["City of Antwerp"]
    assert a["days_to_answer"] == {"count": 2, "median": 3.0, "worst": 4.0}
    assert a["days_to_decide"] == {"count": 1, "median": 3.0, "worst": 3.0}
    assert a["days_to_sign"] == {"count": 1, "median": 6.0, "worst": 6.0}
    assert a["days_to_pay"] == {"count": 2, "median": 22.5, "worst": 40.0}
    assert a["payouts_within_30_days"] == {"count": 1, "of": 3, "share": 0.333}
    # EUR 10,000 paid 10 days late at 2.15 % + 8 points: 10,000 x 10.15 % x 10 / 365 = EUR 27.81, plus EUR 40
    assert a["late_payment_interest"] == {"amount": 2781 + 4000, "currency": "EUR"}
    assert a["proposals_per_challenge"] == {"challenges": 1, "median": 2.0, "mean": 2.0}
    assert a["sme_share"] == {"count": 1, "of": 2, "share": 0.5}
    assert a["first_time_bidder_share"] == {"count": 1, "of": 2, "share": 0.5}  # Small Co bid at Ghent first
    assert a["follow_on_share"] == {"count": 1, "of": 2, "share": 0.5}

    g = by_name["City of Ghent"]
    assert g["proposals_per_challenge"] == {"challenges": 1, "median": 1.0, "mean": 1.0}  # the open one is sealed
    assert g["days_to_pay"] == {"count": 0, "median": None, "worst": None}
    assert g["payouts_within_30_days"]["share"] is None

    p = m["platform"]
    assert p["proposals_per_challenge"] == {"challenges": 2, "median": 1.5, "mean": 1.5}
    assert p["sme_share"] == {"count": 2, "of": 3, "share": 0.667}
    assert p["first_time_bidder_share"] == {"count": 2, "of": 3, "share": 0.667}
    assert p["days_to_pay"]["median"] == 22.5


async def test_metrics_api_pages_buyers_and_csv_has_the_same_figures(client):
    await known_journey()
    with time_machine.travel(NOW, tick=False):
        first = (await client.get("/api/v1/metrics?limit=1")).json()
        assert [b["buyer"]["name"] for b in first["items"]] == ["City of Antwerp"]
        assert first["platform"]["sme_share"]["share"] == 0.667
        second = (await client.get(f"/api/v1/metrics?limit=1&cursor={first['next_cursor']}")).json()
        assert [b["buyer"]["name"] for b in second["items"]] == ["City of Ghent"] and second["next_cursor"] is None

        response = await client.get("/api/v1/metrics.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["scope"] for r in rows] == ["platform", "buyer", "buyer"]
    antwerp = rows[1]
    assert antwerp["buyer_name"] == "City of Antwerp"
    assert antwerp["days_to_pay_median"] == "22.5" and antwerp["days_to_pay_worst"] == "40.0"
    assert antwerp["payouts_within_30_days_share"] == "0.333" and antwerp["late_payment_interest_cents"] == "6781"


async def test_performance_page_shows_the_figures_with_a_chart_and_its_table_in_each_language(client):
    await known_journey()
    with time_machine.travel(NOW, tick=False):
        en = await client.get("/performance")
        nl = await client.get("/performance", headers={"Accept-Language": "nl"})
    assert en.status_code == 200
    assert "City of Antwerp" in en.text and "22.5" in en.text and "33%" in en.text
    assert en.text.count('<svg role="img"') == 4 and "<table" in en.text  # every chart has its table
    assert "€67.81" in en.text  # late-payment interest and compensation owed
    assert nl.status_code == 200 and "22,5" in nl.text and "Prestaties van de kopers" in nl.text


async def test_nothing_is_counted_for_a_stage_still_sealed():
    ghent = await make_org("public_body", name="City of Ghent")
    sealed = await make_open_challenge(ghent, start=NOW - DAY)
    await _bid(sealed, await make_org("company", size="small"), NOW)
    m = await public_metrics(NOW)
    assert m["platform"]["proposals_per_challenge"]["challenges"] == 0
    assert m["platform"]["sme_share"]["of"] == 0


async def test_co_creation_reviews_feed_the_buyer_metrics_once_both_parties_answered():
    from marketplace.cocreation.tables import ExperimentReview
    from marketplace.experiments.tables import Experiment

    antwerp = await make_org("public_body", name="City of Antwerp")
    company = await make_org("company", name="Small Co", size="small")
    experiment = Experiment(buyer=antwerp.id, company=company.id, title="Pilot", status="finished", outcome="succeeded",
                            follow_on="stop", finished_at=NOW)
    await experiment.save()
    await ExperimentReview.insert(ExperimentReview(experiment=experiment.id, party="buyer", organisation=antwerp.id, total=80))
    one_side = (await public_metrics(NOW))["buyers"]
    assert one_side == [] or one_side[0]["co_creation_review"] == {"reviews": 0, "mean": None}
    await ExperimentReview.insert(ExperimentReview(experiment=experiment.id, party="company", organisation=company.id, total=60))
    assert (await public_metrics(NOW))["platform"]["co_creation_review"] == {"reviews": 2, "mean": 70.0}
