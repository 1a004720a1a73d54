"""From the standstill to an active contract: objections hold the contract back, the issued PDF
names parties, price and milestones, and both parties sign it exactly once."""

import hashlib
from datetime import timedelta

import time_machine

from marketplace.awards.contracts import issue_due_contracts
from marketplace.awards.tables import Contract, Signature
from marketplace.core.clock import now
from marketplace.experiments.tables import Experiment
from marketplace.mail.tables import OutboxMessage
from tests.factories import make_user, signed_in_client, token_for
from tests.factories_contracts import award_body, make_award_setting, make_decided_proposal, pdf_text

DAY = timedelta(days=1)


async def _awarded(client, **challenge_fields):
    s = await make_award_setting(**challenge_fields)
    response = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards",
                                 json=award_body(s.winner, amounts=(1_200_000, 500_000, 300_000), language="en"),
                                 headers=await token_for(s.officer))
    assert response.status_code == 201, response.text
    s.award = response.json()
    return s


async def _after_standstill(days: int = 11):
    with time_machine.travel(now() + days * DAY, tick=False):
        return await issue_due_contracts()


async def test_contract_is_issued_when_the_standstill_ends_and_reads_back_correctly(client):
    s = await _awarded(client)
    assert await issue_due_contracts() == 0  # still in standstill
    contract_id = s.award["contract_id"]
    draft = await client.get(f"/api/v1/contracts/{contract_id}", headers=await token_for(s.officer))
    assert draft.json()["status"] == "draft" and draft.json()["document_sha256"] is None
    assert (await client.get(f"/api/v1/contracts/{contract_id}/document", headers=await token_for(s.officer))).status_code == 409

    assert await _after_standstill() == 1
    assert await _after_standstill() == 0  # idempotent: never issued twice
    body = (await client.get(f"/api/v1/contracts/{contract_id}", headers=await token_for(s.winner_member))).json()
    assert body["status"] == "issued" and body["document_version"] == 1
    pdf = await client.get(f"/api/v1/contracts/{contract_id}/document", headers=await token_for(s.winner_member))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == body["document_sha256"]
    pages, text = pdf_text(pdf.content)
    assert pages == 2
    assert body["number"] in text
    assert "FPS Home Affairs – 112 Emergency" in text and "TriageVoice BV" in text and "0786.432.119" in text
    assert "€20,000.00" in text and "€12,000.00" in text and "€5,000.00" in text and "€3,000.00" in text
    assert "Milestone 1" in text and "Deliverable 3: a report." in text
    assert "A voice assistant that listens beside the operator." in text  # scope from the proposal
    assert "within 30 days" in text and "Page 2 of 2" in text
    assert await OutboxMessage.count().where(OutboxMessage.kind == "contract_issued") == 3  # officer, civil servant, company


async def test_contract_renders_in_french_and_dutch(client):
    for language, words in (("fr", ("Contrat de test", "Signatures", "Page 1 sur")), ("nl", ("Testovereenkomst", "Handtekeningen", "Pagina 1 van"))):
        s = await make_award_setting()
        await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner, language=language),
                          headers=await token_for(s.officer))
        await _after_standstill()
        contract = await Contract.objects().where(Contract.company == s.winner.company).first()
        pdf = await client.get(f"/api/v1/contracts/{contract.id}/document", headers=await token_for(s.officer))
        _, text = pdf_text(pdf.content)
        assert all(w in text for w in words), (language, text[:500])


async def test_an_open_objection_holds_the_contract_until_it_is_answered(client):
    s = await _awarded(client)
    award_id = s.award["id"]
    objection = await client.post(f"/api/v1/awards/{award_id}/objections", json={"text": "Our price was lower."},
                                  headers=await token_for(s.loser_member))
    assert objection.status_code == 201, objection.text
    assert await OutboxMessage.count().where(OutboxMessage.kind == "objection_raised") == 2
    assert await _after_standstill() == 0
    assert (await Contract.objects().where(Contract.award == award_id).first()).status == "draft"

    mine = await client.get(f"/api/v1/awards/{award_id}/objections", headers=await token_for(s.loser_member))
    assert [o["text"] for o in mine.json()["items"]] == ["Our price was lower."]
    outsider = await client.get(f"/api/v1/awards/{award_id}/objections", headers=await token_for(await make_user("company_member")))
    assert outsider.status_code == 404

    url = f"/api/v1/objections/{objection.json()['id']}/answer"
    assert (await client.post(url, json={"text": "No."}, headers=await token_for(s.winner_member))).status_code == 403
    answered = await client.post(url, json={"text": "Price weighs 30%; the team scored higher."}, headers=await token_for(s.civil_servant))
    assert answered.status_code == 201 and answered.json()["status"] == "answered"
    assert (await client.post(url, json={"text": "Again"}, headers=await token_for(s.officer))).status_code == 409
    assert await OutboxMessage.count().where((OutboxMessage.kind == "objection_answered") & (OutboxMessage.to_address == s.loser_member.email)) == 1
    assert await _after_standstill() == 1


async def test_objections_only_from_losing_bidders_and_only_during_the_standstill(client):
    s = await _awarded(client)
    url = f"/api/v1/awards/{s.award['id']}/objections"
    assert (await client.post(url, json={"text": "x"}, headers=await token_for(s.winner_member))).status_code == 403
    assert (await client.post(url, json={"text": "x"}, headers=await token_for(await make_user("company_member")))).status_code == 403
    assert (await client.post(url, json={"text": "x"}, headers=await token_for(s.officer))).status_code == 403
    assert (await client.post(url, json={"text": ""}, headers=await token_for(s.loser_member))).status_code == 422
    with time_machine.travel(now() + 11 * DAY, tick=False):
        late = await client.post(url, json={"text": "Too late?"}, headers=await token_for(s.loser_member))
        assert late.status_code == 409


async def test_both_parties_sign_and_the_contract_becomes_active(client):
    s = await _awarded(client)
    await _after_standstill()
    contract_id = s.award["contract_id"]
    url = f"/api/v1/contracts/{contract_id}/signatures"
    sha = (await client.get(f"/api/v1/contracts/{contract_id}", headers=await token_for(s.officer))).json()["document_sha256"]

    unread = await client.post(url, json={"party": "buyer", "document_sha256": sha, "confirm": False},
                               headers=await token_for(s.officer))
    assert unread.status_code == 422 and unread.json()["errors"][0]["field"] == "confirm"  # an explicit "no" is refused
    signing = {"document_sha256": sha, "confirm": True}
    first = await client.post(url, json={"party": "buyer", **signing}, headers=await token_for(s.officer))
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "issued"
    assert first.json()["signatures"][0] | {"signed_at": None} == {
        "party": "buyer", "organisation_id": str(s.buyer.id), "user_id": str(s.officer.id), "name": "Marc Dubois",
        "signed_at": None, "ip_address": "127.0.0.1", "document_sha256": sha}
    twice = await client.post(url, json=signing, headers=await token_for(s.officer))
    assert twice.status_code == 409

    second = await client.post(url, json=signing, headers=await token_for(s.winner_member))
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "active" and second.json()["activated_at"]
    assert {x["party"] for x in second.json()["signatures"]} == {"buyer", "company"}
    assert (await client.post(url, json=signing, headers=await token_for(s.winner_member))).status_code == 409
    assert await OutboxMessage.count().where(OutboxMessage.kind == "contract_active") == 3
    experiment = await Experiment.objects().where(Experiment.contract_id == contract_id).first()
    assert experiment is not None  # the experiment starts with the contract

    # The signed contract is a new version of the document: who signed for each party, when, and what they signed.
    signed = await client.get(f"/api/v1/contracts/{contract_id}/document", headers=await token_for(s.officer))
    assert signed.status_code == 200 and hashlib.sha256(signed.content).hexdigest() != sha
    _pages, text = pdf_text(signed.content)
    flat = " ".join(text.split())
    assert "Signed by Marc Dubois" in flat and sha[:16] in flat.replace(" ", "") and "version 2" in flat
    after = (await client.get(f"/api/v1/contracts/{contract_id}", headers=await token_for(s.officer))).json()
    assert after["document_sha256"] == sha and after["document_version"] == 2
    page = (await (await signed_in_client(client, s.officer)).get(f"/contracts/{contract_id}")).text
    assert f'href="/experiments/{experiment.id}"' in page and "version 2" in page  # the contract page leads to its experiment


async def test_signing_for_the_wrong_party_or_too_early_is_refused(client):
    s = await _awarded(client)
    url = f"/api/v1/contracts/{s.award['contract_id']}/signatures"
    early = await client.post(url, json={"document_sha256": "0" * 64, "confirm": True}, headers=await token_for(s.officer))
    assert early.status_code == 409  # draft: the standstill runs
    await _after_standstill()
    wrong = await client.post(url, json={"party": "company"}, headers=await token_for(s.officer))
    assert wrong.status_code == 403
    wrong = await client.post(url, json={"party": "buyer"}, headers=await token_for(s.winner_member))
    assert wrong.status_code == 403
    civil = await client.post(url, headers=await token_for(s.civil_servant))
    assert civil.status_code == 403  # a civil servant sees the contract but does not sign it
    stale = await client.post(url, json={"document_sha256": "0" * 64, "confirm": True}, headers=await token_for(s.officer))
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "document_sha256"
    assert await Signature.count() == 0


async def test_a_signature_always_names_the_document_hash_it_signs_and_a_confirmation(client):
    """Attack: a bare POST (no hash, no confirmation) used to sign whatever document was current."""
    s = await _awarded(client)
    await _after_standstill()
    contract_id = s.award["contract_id"]
    url = f"/api/v1/contracts/{contract_id}/signatures"
    headers = await token_for(s.officer)
    sha = (await client.get(f"/api/v1/contracts/{contract_id}", headers=headers)).json()["document_sha256"]
    for body in (None, {}, {"party": "buyer"}, {"party": "buyer", "confirm": True}):
        refused = await client.post(url, json=body, headers=headers)
        assert refused.status_code == 422, (body, refused.text)
        assert "document_sha256" in {e["field"] for e in refused.json()["errors"]}
    unconfirmed = await client.post(url, json={"party": "buyer", "document_sha256": sha}, headers=headers)
    assert unconfirmed.status_code == 422 and [e["field"] for e in unconfirmed.json()["errors"]] == ["confirm"]
    assert await Signature.count() == 0
    signed = await client.post(url, json={"party": "buyer", "document_sha256": sha, "confirm": True}, headers=headers)
    assert signed.status_code == 201 and signed.json()["signatures"][0]["document_sha256"] == sha


async def test_another_company_cannot_see_or_download_or_sign_the_contract(client):
    s = await _awarded(client)
    await _after_standstill()
    cid = s.award["contract_id"]
    for user in (s.loser_member, await make_user("company_member"), await make_user("procurement_officer")):
        headers = await token_for(user)
        assert (await client.get(f"/api/v1/contracts/{cid}", headers=headers)).status_code == 404
        assert (await client.get(f"/api/v1/contracts/{cid}/document", headers=headers)).status_code == 404
        assert (await client.post(f"/api/v1/contracts/{cid}/signatures", headers=headers)).status_code == 404
    assert (await client.get(f"/api/v1/contracts/{cid}")).status_code == 401
    assert (await client.get(f"/api/v1/contracts/{cid}/document")).status_code == 401
    assert (await client.post(f"/api/v1/contracts/{cid}/signatures")).status_code == 401
    evaluator = await make_user("evaluator", org=s.buyer)
    assert (await client.post(f"/api/v1/contracts/{cid}/signatures", headers=await token_for(evaluator))).status_code == 403
    assert await Signature.count() == 0


async def test_two_awards_on_one_challenge_get_two_numbered_contracts(client):
    s = await _awarded(client)
    second = await make_decided_proposal(s.challenge, "selected")
    response = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(second, amounts=(500_000,)),
                                 headers=await token_for(s.officer))
    assert response.status_code == 201
    numbers = [c["number"] for c in await Contract.select(Contract.number)]
    assert len(set(numbers)) == 2


async def test_an_upheld_objection_cancels_the_award_and_everyone_is_told(client):
    from marketplace.awards.tables import Award
    from marketplace.challenges.tables import Challenge
    from marketplace.proposals.tables import Proposal

    s = await _awarded(client)
    award_id = s.award["id"]
    objection = await client.post(f"/api/v1/awards/{award_id}/objections", json={"text": "Our score was miscounted."},
                                  headers=await token_for(s.loser_member))
    url = f"/api/v1/objections/{objection.json()['id']}/answer"
    refused = await client.post(url, json={"text": "Upheld.", "upheld": True}, headers=await token_for(s.winner_member))
    assert refused.status_code == 403
    upheld = await client.post(url, json={"text": "You are right: the pitch scores were swapped.", "upheld": True},
                               headers=await token_for(s.officer))
    assert upheld.status_code == 201, upheld.text
    assert upheld.json()["status"] == "upheld"

    assert (await Award.objects().where(Award.id == award_id).first()).status == "cancelled"
    assert (await Contract.objects().where(Contract.award == award_id).first()).status == "cancelled"
    assert (await Proposal.objects().where(Proposal.id == s.winner.id).first()).status == "selected"
    assert (await Challenge.objects().where(Challenge.id == s.challenge.id).first()).status == "published"
    told = {m["to_address"] for m in await OutboxMessage.select(OutboxMessage.to_address).where(
        OutboxMessage.kind == "award_cancelled")}
    assert told == {s.officer.email, s.civil_servant.email, s.winner_member.email, s.loser_member.email}
    french = await OutboxMessage.objects().where((OutboxMessage.kind == "award_cancelled")
                                                 & (OutboxMessage.to_address == s.loser_member.email)).first()
    assert "annulée" in french.subject and "the pitch scores were swapped" in french.body_text
    assert await _after_standstill() == 0  # no contract for a cancelled award

    public = (await client.get(f"/api/v1/awards/{award_id}")).json()
    assert public["status"] == "cancelled"
    other = await make_decided_proposal(s.challenge, "selected")
    fresh = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(other, amounts=(3_000_000,)),
                              headers=await token_for(s.officer))
    assert fresh.status_code == 201, fresh.text  # the cancelled award no longer counts against the cap
