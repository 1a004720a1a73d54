"""Stage features, for every shipped template and every stage, before, during and after the stage
(frozen clock), through the API and the pages: questions, document uploads, edits of a submitted
stage and pitch scheduling are possible exactly while a stage that declares them is open; otherwise
409 naming the stage and the feature (or the closed stage), and the pages do not offer them."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
import time_machine

from marketplace.procedures import engine
from tests.factories import make_org, make_user, signed_in_client, token_for
from tests.factories_contracts import award_body
from tests.factories_proposals import make_buyer_team, make_open_challenge, stage_row, valid_answers
from tests.test_proposals_journey import advance_past

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
PDF = b"%PDF-1.7\n% a tiny document\n"
FEATURES = ("questions", "documents", "edits", "pitch")


async def ask(client, challenge, headers):
    return await client.post(f"/api/v1/challenges/{challenge.id}/questions", headers=headers, json={"text": "Is a pilot in Dutch fine?"})


async def upload(client, pid, spec, headers):
    key = spec.documents[0].key if spec.documents else "annex"
    return await client.post(f"/api/v1/proposals/{pid}/stages/{spec.key}/documents/{key}", headers=headers,
                             files={"file": ("doc.pdf", PDF, "application/pdf")})


async def edit(client, pid, spec, headers):
    return await client.put(f"/api/v1/proposals/{pid}/stages/{spec.key}", headers=headers, json={"answers": valid_answers(spec)})


class Pages:
    """The team's and another company's view of the pages: which forms they are offered."""

    def __init__(self, app, member, asker):
        self.app, self.member, self.asker = app, member, asker

    async def get_page(self, user, path):
        transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 50002))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await signed_in_client(c, user)
            r = await c.get(path)
            assert r.status_code == 200, (path, r.status_code)
            return r.text

    async def offered(self, challenge, pid, spec):
        challenge_page = await self.get_page(self.asker, f"/challenges/{challenge.id}")
        proposal_page = await self.get_page(self.member, f"/proposals/{pid}")
        return {"questions": f'action="/challenges/{challenge.id}/questions"' in challenge_page,
                "form": f'action="/proposals/{pid}/stages/{spec.key}"' in proposal_page,
                "documents": f'action="/proposals/{pid}/stages/{spec.key}/documents/' in proposal_page}


async def propose_slot(client, challenge, spec, officer, starts_at):
    return await client.post(f"/api/v1/challenges/{challenge.id}/stages/{spec.key}/pitch-slots", headers=officer,
                             json={"slots": [{"starts_at": starts_at.isoformat(), "minutes": 20, "location": "Room 2.14"}]})


def assert_refused_naming(r, spec, feature, moment):
    assert r.status_code == 409, (spec.key, feature, moment, r.status_code, r.text)
    body = r.json()
    if moment == "during":
        assert str(spec.name) in body["detail"], body
        assert {"field": f"stages.{spec.key}.features", "message": f"does not include `{feature}`"} in body["errors"], body


@pytest.mark.parametrize("template", ["light", "two-phase", "open-call"])
async def test_the_whole_procedure_with_every_feature_before_during_and_after_each_stage(client, app, template):
    travel = time_machine.travel(T0 - SECOND, tick=False)
    clock = travel.start()
    try:
        buyer = await make_org("public_body")
        civil = await token_for((await make_buyer_team(buyer))["civil_servant"])
        challenge = await make_open_challenge(buyer, template=template, start=T0, qa_closes_at=T0 + timedelta(days=365))
        member, asking = await make_user("company_member"), await make_user("company_member")
        team, asker = await token_for(member), await token_for(asking)
        officer = await token_for(await make_user("procurement_officer", org=buyer))
        pages = Pages(app, member, asking)
        # Before the first stage opens, nothing is possible: no stage is open.
        r = await ask(client, challenge, asker)
        assert r.status_code == 409 and r.json()["errors"] == [{"field": "stage", "message": "no stage is open, so `questions` is off"}]
        clock.move_to(T0)
        pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=team)).json()["id"]
        tpl = engine.latest(template)
        for spec in tpl.stages:
            row = await stage_row(challenge, spec.key)
            clock.move_to(row["opens_at"])
            # during: each feature exactly as declared
            offered = await pages.offered(challenge, pid, spec)
            assert offered["questions"] == ("questions" in spec.features), (spec.key, "question form")
            assert offered["documents"] == ("documents" in spec.features), (spec.key, "upload form")
            r = await ask(client, challenge, asker)
            if "questions" in spec.features:
                assert r.status_code == 201, (spec.key, r.text)
                answered = await client.post(f"/api/v1/questions/{r.json()['id']}/answer", headers=civil, json={"text": "Yes."})
                assert answered.status_code in (200, 201), answered.text
            else:
                assert_refused_naming(r, spec, "questions", "during")
            r = await upload(client, pid, spec, team)
            if "documents" in spec.features:
                assert r.status_code == 201, (spec.key, r.text)
            else:
                assert_refused_naming(r, spec, "documents", "during")
            slots = await propose_slot(client, challenge, spec, officer, row["opens_at"] + timedelta(days=2))
            if "pitch" in spec.features:
                assert slots.status_code == 201, slots.text
                slot_id = slots.json()["items"][-1]["id"]
                chosen = await client.post(f"/api/v1/pitch-slots/{slot_id}/choose", headers=team)
                assert chosen.status_code == 200 and chosen.json()["mine"], chosen.text
            else:
                assert_refused_naming(slots, spec, "pitch", "during")
                slot_id = None
            assert (await edit(client, pid, spec, team)).status_code == 200, "a draft is always the team's to change"
            r = await client.post(f"/api/v1/proposals/{pid}/stages/{spec.key}/submit", headers=team)
            assert r.status_code == 200, r.text
            offered = await pages.offered(challenge, pid, spec)
            assert offered["form"] == ("edits" in spec.features), (spec.key, "the stage form after submission")
            assert offered["documents"] == ("edits" in spec.features and "documents" in spec.features), spec.key
            r = await edit(client, pid, spec, team)
            if "edits" in spec.features:
                assert r.status_code == 200, (spec.key, r.text)
                assert (await client.post(f"/api/v1/proposals/{pid}/stages/{spec.key}/submit", headers=team)).status_code == 200
            else:
                assert_refused_naming(r, spec, "edits", "during")
                assert_refused_naming(await client.post(f"/api/v1/proposals/{pid}/stages/{spec.key}/submit", headers=team),
                                      spec, "edits", "during")
            # after: from the deadline on, nothing of this stage is possible any more
            clock.move_to(row["closes_at"])
            assert (await ask(client, challenge, asker)).status_code == 409
            assert (await upload(client, pid, spec, team)).status_code == 409
            assert (await edit(client, pid, spec, team)).status_code == 409
            if slot_id:
                assert (await client.post(f"/api/v1/pitch-slots/{slot_id}/choose", headers=team)).status_code == 409
            assert not any((await pages.offered(challenge, pid, spec)).values()), (spec.key, "nothing offered after the deadline")
            await advance_past(client, challenge, clock, civil, pid, spec)
        # The whole procedure ends in the final award of the proposal selected at the last stage.
        final = await client.post(f"/api/v1/challenges/{challenge.id}/awards", headers=officer, json=award_body(SimpleNamespace(id=pid)))
        assert final.status_code == 201, final.text
        assert (await client.get(f"/api/v1/proposals/{pid}", headers=team)).json()["status"] == "awarded"
        r = await ask(client, challenge, asker)
        assert r.status_code == 409, "no stage is open once the procedure is over"
    finally:
        travel.stop()


