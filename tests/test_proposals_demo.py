"""The demo data: the 112 challenge has proposals at several stages, scores and feedback; loading twice adds nothing."""

from marketplace.demo import DemoContext, load_demo
from marketplace.evaluation import demo as evaluation_demo
from marketplace.evaluation.tables import Score
from marketplace.proposals import demo as proposals_demo
from marketplace.proposals.tables import Decision, Proposal
from tests.factories import token_for


async def test_the_112_challenge_has_proposals_at_several_stages_with_scores_and_feedback(client):
    await load_demo()
    ctx = DemoContext()
    from marketplace.demo import _load_accounts

    await _load_accounts(ctx)
    assert await proposals_demo.find_112_challenge(ctx) is not None, "the challenges demo publishes the 112 challenge"
    for _ in range(2):
        await proposals_demo.load(ctx)
        await evaluation_demo.load(ctx)
    challenge = await proposals_demo.find_112_challenge(ctx)
    statuses = sorted(r["status"] for r in await Proposal.select(Proposal.status).where(Proposal.challenge == challenge["id"]))
    assert statuses == ["advanced", "advanced", "rejected", "rejected", "submitted"]
    assert await Decision.count().where(Decision.proposal.challenge == challenge["id"]) == 5 and await Score.count() == 15

    sofie, lena, ines = [await token_for(ctx.users[k]) for k in ("sofie", "lena", "ines")]
    ranking = await client.get(f"/api/v1/challenges/{challenge['id']}/ranking?stage=expression_of_interest", headers=sofie)
    assert ranking.status_code == 200 and ranking.json()["items"][0]["company"] == "TriageVoice BV"
    mine = (await client.get("/api/v1/me/proposals", headers=lena)).json()["items"]
    assert mine[0]["next"]["kind"] == "deadline" and mine[0]["stages"][0]["decision"]["outcome"] == "advance"
    listing = await client.get(f"/api/v1/challenges/{challenge['id']}/proposals?stage=expression_of_interest", headers=ines)
    assert listing.status_code == 200 and all(i["company"] is None for i in listing.json()["items"]), "the first round is blind"
    sealed = await client.get(f"/api/v1/challenges/{challenge['id']}/proposals?stage=short_proposal", headers=sofie)
    assert sealed.status_code == 409, "the open stage stays sealed"
