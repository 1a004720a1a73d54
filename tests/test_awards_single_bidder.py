"""No other bidder at the stage, no standstill: the law lets the contract be concluded at once when the
successful tenderer is the only one concerned. The award says so in words (page, letter, e-mail, API,
in the reader's language) and its contract can be signed straight away. With another bidder, the
standstill of MARKETPLACE_STANDSTILL_DAYS runs as before."""

import json
from datetime import timedelta

import pytest

from marketplace.awards.tables import Award, Contract
from marketplace.core.clock import now, rfc3339
from marketplace.documents.services import read_bytes
from marketplace.documents.tables import Document
from marketplace.mail.tables import OutboxMessage
from marketplace.proposals.tables import Proposal, ProposalStage
from marketplace.transparency import audit
from marketplace.transparency.tables import AuditEvent
from tests.factories import signed_in_client, token_for
from tests.factories_contracts import award_body, make_award_setting, pdf_text

NO_STANDSTILL = "No standstill period: no other company submitted a proposal at this stage"


async def _only_bidder_at_the_pitch():
    """TriageVoice alone at the last stage: GeoFlow was turned down at the short proposal, before the pitch."""
    s = await make_award_setting()
    await ProposalStage.delete().where((ProposalStage.proposal == s.loser.id) & (ProposalStage.stage == "pitch"))
    return s


async def test_the_only_bidder_at_the_stage_is_awarded_without_standstill_and_both_sign_at_once(client):
    s = await _only_bidder_at_the_pitch()
    response = await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner),
                                 headers=await token_for(s.officer))
    assert response.status_code == 201, response.text
    award = response.json()
    assert award["standstill_ends_at"] is None
    assert award["standstill_reason"].startswith(NO_STANDSTILL) and "17 June 2013, art. 11" in award["standstill_reason"]
    assert award["status"] == "contracted"

    # The contract is issued now: both parties sign it without waiting.
    contract = await Contract.objects().where(Contract.id == award["contract_id"]).first()
    assert contract.status == "issued" and contract.document_sha256
    url = f"/api/v1/contracts/{contract.id}/signatures"
    signing = {"document_sha256": contract.document_sha256, "confirm": True}
    assert (await client.post(url, json={"party": "buyer", **signing}, headers=await token_for(s.officer))).status_code == 201
    signed = await client.post(url, json=signing, headers=await token_for(s.winner_member))
    assert signed.status_code == 201 and signed.json()["status"] == "active"

    # Nobody is left to object.
    objection = await client.post(f"/api/v1/awards/{award['id']}/objections", json={"text": "Too fast."},
                                  headers=await token_for(s.loser_member))
    assert objection.status_code == 409

    # In words, in each reader's language: the API, the award letter, the e-mails, the audit trail.
    french = (await client.get(f"/api/v1/awards/{award['id']}", headers={"Accept-Language": "fr-BE"})).json()
    assert french["standstill_reason"].startswith("Pas de délai d'attente : aucune autre entreprise")
    dutch = (await client.get(f"/api/v1/challenges/{s.challenge.id}/awards", headers={"Accept-Language": "nl"})).json()
    assert dutch["items"][0]["standstill_reason"].startswith("Geen wachttermijn: geen ander bedrijf")
    letter = await Document.objects().where((Document.kind == "award_letter") & (Document.subject_id == str(s.winner.id))).first()
    assert NO_STANDSTILL in " ".join(pdf_text(await read_bytes(letter))[1].split())
    rejection = await Document.objects().where(Document.kind == "rejection_letter").first()
    assert rejection.language == "fr" and "Pas de délai d'attente" in " ".join(pdf_text(await read_bytes(rejection))[1].split())
    won = await OutboxMessage.objects().where(OutboxMessage.kind == "award_won").first()
    assert NO_STANDSTILL in " ".join(won.body_text.split()) and "The standstill period ends" not in won.body_text
    await audit.chain_pending()
    made = await AuditEvent.objects().where(AuditEvent.action == "award.made").first()
    assert json.loads(made.data)["standstill_reason"] == "single_bidder"
    assert await AuditEvent.exists().where(AuditEvent.action == "contract.issued")


async def test_the_award_page_says_there_is_no_standstill_and_why(client):
    s = await _only_bidder_at_the_pitch()
    award = (await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner),
                               headers=await token_for(s.officer))).json()
    page = (await (await signed_in_client(client, s.winner_member)).get(f"/awards/{award['id']}")).text
    assert 'id="no-standstill"' in page and NO_STANDSTILL in page and "Standstill ends" not in page


@pytest.mark.parametrize("other", ["rejected at the pitch", "withdrawn after its pitch"])
async def test_another_bidder_at_the_stage_keeps_the_standstill_unless_it_withdrew(client, settings, other):
    s = await make_award_setting()
    if other == "withdrawn after its pitch":
        await Proposal.update({Proposal.status: "withdrawn"}).where(Proposal.id == s.loser.id)
    award = (await client.post(f"/api/v1/challenges/{s.challenge.id}/awards", json=award_body(s.winner),
                               headers=await token_for(s.officer))).json()
    row = await Award.objects().where(Award.id == award["id"]).first()
    if other == "withdrawn after its pitch":  # a withdrawn proposal is no tenderer concerned
        assert award["standstill_ends_at"] is None and award["standstill_reason"].startswith(NO_STANDSTILL)
        assert row.standstill_reason == "single_bidder"
        return
    assert award["standstill_reason"] is None and award["status"] == "standstill"
    assert award["standstill_ends_at"] == rfc3339(row.standstill_ends_at)
    assert abs(row.standstill_ends_at - (now() + timedelta(days=settings.standstill_days))) < timedelta(minutes=5)
    assert (await Contract.objects().where(Contract.award == row.id).first()).status == "draft"
