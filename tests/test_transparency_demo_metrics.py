"""The public metrics of the demo data, counted by hand from the demo's own definitions (marketplace/*/demo.py),
checked on the /performance page, in the API and in the CSV: what a newcomer sees after `make demo`."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import time_machine

from marketplace.demo import load_demo

MOMENT = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
FPS = "FPS Home Affairs – 112 Emergency Centres"

# By hand, from the demo:
# - questions (challenges/demo.py): 112 answered after 24 h, 48 h and 12 h -> 1.0, 2.0, 0.5 days: median 1.0, worst 2.0;
#   Ghent's bike parking after 36 h -> 1.5. Platform: median of 0.5, 1.0, 1.5, 2.0 = 1.25, shown 1.2 (half to even).
# - decisions: the 112 expression of interest closed 9 days ago, decided 2 days ago -> 7 days (proposals/demo.py);
#   the past 112 challenge's three stages each decided 3 days after closing (awards/demo.py): median 3.0, worst 7.0.
# - signature: the past 112 challenge's award 12 days ago, the contract signed on loading -> 12.0.
# - payments (experiments/demo.py): 112 accepted and paid 4 days later; Ghent paid after 12 and 9 days, and one
#   accepted 35 days ago still unpaid (over the 30-day term). Platform: 4, 9, 12 -> median 9.0; 3 of 4 within 30 days.
# - bids at each challenge's first closed stage: the 112 expression of interest (5 companies, all micro, small
#   or medium), the past 112 challenge (SensorCity and LinguaBridge, 65 days ago, before the others): 3.5 per
#   challenge; 7 of 7 from SMEs; first-time bidders 5 of 7 (SensorCity and LinguaBridge bid again on 112).
# - follow-on: Ghent's one finished experiment failed and led to a new challenge -> 1 of 1.
EXPECTED = {
    "platform": {
        "days_to_answer": {"count": 4, "median": 1.2, "worst": 2.0},
        "days_to_decide": {"count": 4, "median": 3.0, "worst": 7.0},
        "days_to_sign": {"count": 1, "median": 12.0, "worst": 12.0},
        "days_to_pay": {"count": 3, "median": 9.0, "worst": 12.0},
        "payouts_within_30_days": {"count": 3, "of": 4, "share": 0.75},
        "proposals_per_challenge": {"challenges": 2, "median": 3.5, "mean": 3.5},
        "sme_share": {"count": 7, "of": 7, "share": 1.0},
        "first_time_bidder_share": {"count": 5, "of": 7, "share": 0.714},
        "follow_on_share": {"count": 1, "of": 1, "share": 1.0},
    },
    FPS: {
        "days_to_answer": {"count": 3, "median": 1.0, "worst": 2.0},
        "days_to_decide": {"count": 4, "median": 3.0, "worst": 7.0},
        "days_to_sign": {"count": 1, "median": 12.0, "worst": 12.0},
        "days_to_pay": {"count": 1, "median": 4.0, "worst": 4.0},
        "payouts_within_30_days": {"count": 1, "of": 1, "share": 1.0},
        "proposals_per_challenge": {"challenges": 2, "median": 3.5, "mean": 3.5},
        "first_time_bidder_share": {"count": 5, "of": 7, "share": 0.714},
    },
    "City of Ghent": {
        "days_to_answer": {"count": 1, "median": 1.5, "worst": 1.5},
        "days_to_decide": {"count": 0, "median": None, "worst": None},
        "days_to_pay": {"count": 2, "median": 10.5, "worst": 12.0},
        "payouts_within_30_days": {"count": 2, "of": 3, "share": 0.667},
        "follow_on_share": {"count": 1, "of": 1, "share": 1.0},
    },
}


def words(html: str) -> str:
    """The page's main text as a reader sees it: no charts, no tags, single spaces."""
    main = html[html.index("<main"):]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", main, flags=re.S))).strip()


async def test_the_demo_figures_are_those_counted_by_hand_on_the_page_in_the_api_and_in_the_csv(client):
    with time_machine.travel(MOMENT, tick=False):
        await load_demo()
        api = (await client.get("/api/v1/metrics")).json()
        page = await client.get("/performance")
        fr = await client.get("/performance", headers={"Accept-Language": "fr"})
        table = await client.get("/api/v1/metrics.csv")

    scopes = {"platform": api["platform"], **{b["buyer"]["name"]: b for b in api["items"]}}
    assert set(scopes) == {"platform", FPS, "City of Ghent"}
    for scope, figures in EXPECTED.items():
        for name, value in figures.items():
            assert scopes[scope][name] == value, (scope, name, scopes[scope][name])
    assert scopes["platform"]["late_payment_interest"] == {"amount": 0, "currency": "EUR"}, "nothing was paid late"

    assert page.status_code == 200 and fr.status_code == 200
    shown = words(page.text)
    for figure in ("Days to answer a question median 1.2, worst 2 (4 measured)",
                   "Days to sign the contract after the award median 12, worst 12 (1 measured)",
                   "Days to pay a milestone after its acceptance median 9, worst 12 (3 measured)",
                   "Payments made within 30 days 75% (3 of 4)", "Bids from first-time bidders 71% (5 of 7)",
                   "Proposals per challenge median 3.5, average 3.5 (2 challenges)",
                   "City of Ghent 1.5 / 1.5 – / – – / – 10.5 / 12 67%", f"{FPS} 1 / 2 3 / 7 12 / 12 4 / 4 100%"):
        assert figure in shown, figure
    assert "10,5 / 12 67" in words(fr.text)

    rows = {(r["scope"], r["buyer_name"]): r for r in csv.DictReader(io.StringIO(table.text))}
    ghent = rows[("buyer", "City of Ghent")]
    assert ghent["days_to_pay_median"] == "10.5" and ghent["payouts_within_30_days_share"] == "0.667"
    assert rows[("platform", "")]["first_time_bidder_share"] == "0.714"
