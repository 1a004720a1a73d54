"""A file posted without its file name (a multipart part Litestar then decodes as UTF-8 text) is the client's
mistake: every upload route answers 400 naming the body, never a 500, and nothing is stored."""

from __future__ import annotations

import pytest

from marketplace.procedures import engine
from tests.factories import make_user, token_for
from tests.factories_proposals import make_open_challenge

BOUNDARY = "b0undary"


def nameless_file(field: str, text_fields: dict[str, str]) -> bytes:
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n'.encode() + b"\xff\xd8\xff\xe0 JPEG bytes"
    for name, value in text_fields.items():
        body += f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
    return body + f"\r\n--{BOUNDARY}--\r\n".encode()


def assert_bad_body(response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [{"field": "body", "message": "a file was sent without a file name"}]


@pytest.fixture(autouse=True)
def _sandbox(app):
    from tests.factories_payments import route_payments_to

    route_payments_to(app)


async def test_a_deliverable_sent_without_a_file_name_is_a_bad_request(client):
    from marketplace.experiments.tables import Deliverable
    from tests.factories_transparency import make_running_contract

    setting, _award, _contract, experiment_id = await make_running_contract()
    company = await token_for(setting.winner_member)
    milestone = (await client.get(f"/api/v1/experiments/{experiment_id}", headers=company)).json()["milestones"][0]["id"]
    response = await client.post(f"/api/v1/milestones/{milestone}/deliverables", content=nameless_file("files", {"report": "Done"}),
                                 headers={**company, "content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert_bad_body(response)
    assert await Deliverable.count() == 0


async def test_a_stage_document_sent_without_a_file_name_is_a_bad_request(client):
    from marketplace.proposals.tables import ProposalAttachment

    challenge = await make_open_challenge()
    team = await token_for(await make_user("company_member"))
    pid = (await client.post(f"/api/v1/challenges/{challenge.id}/proposals", headers=team)).json()["id"]
    spec = next(s for s in engine.latest(challenge.procedure_template).stages if s.documents)
    response = await client.post(f"/api/v1/proposals/{pid}/stages/{spec.key}/documents/{spec.documents[0].key}",
                                 content=nameless_file("file", {}),
                                 headers={**team, "content-type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert_bad_body(response)
    assert await ProposalAttachment.count() == 0
