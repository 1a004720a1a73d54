"""Property-based: requests generated from /schema/openapi.json (schemathesis, valid and invalid
ones) for every operation, sent as three roles, never get a 5xx, and every error is problem+json.

Cases are generated once, deterministically (the same cases on every run, so a failure reproduces),
about `MARKETPLACE_API_EXAMPLES` per operation and kind (default 2); set `MARKETPLACE_API_SEED` to
explore other cases. Path ids are sometimes those of real rows, so that generated bodies reach the
services instead of stopping at a 404.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from marketplace.operations import heartbeat
from tests.factories import make_user, token_for
from tests.factories_payments import route_payments_to
from tests.factories_proposals import make_open_challenge, make_proposal

EXAMPLES = int(os.environ.get("MARKETPLACE_API_EXAMPLES", "2"))
SEED = os.environ.get("MARKETPLACE_API_SEED")


def generated_cases(document: dict[str, Any]) -> list[Any]:
    """A few valid and invalid cases per operation of the document."""
    schema = schemathesis.openapi.from_dict(document)
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, database=None, derandomize=SEED is None, deadline=None,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            @hypothesis.given(operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                cases.append(case)

            if SEED is not None:
                collect = hypothesis.seed(int(SEED))(collect)
            try:
                collect()
            except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck):
                continue  # e.g. no invalid value exists for an operation without inputs
    return cases


async def _roles() -> tuple[dict[str, Any], dict[str, str]]:
    """Three roles (a company member, a buyer's civil servant and procurement officer, a platform admin), and
    real ids to put in paths."""
    challenge = await make_open_challenge()
    company_member = await make_user("company_member")
    buyer = await make_user("civil_servant", "procurement_officer", org=challenge.buyer_org)
    proposal = await make_proposal(challenge, company_member.org)
    roles = {"company member": company_member, "buyer": buyer, "platform admin": await make_user(admin=True)}
    ids = {"challenge_id": str(challenge.id), "proposal_id": str(proposal.id), "org_id": str(company_member.org.id),
           "organisation_id": str(company_member.org.id), "stage": challenge.current_stage}
    return roles, ids


def _request(case: Any, headers: dict[str, str], ids: dict[str, str], real: bool) -> dict[str, Any]:
    if real:
        case.path_parameters = {k: ids.get(k, v) for k, v in (case.path_parameters or {}).items()}
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)
    kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() not in ("connection", "accept-encoding")}
    return kwargs


async def test_no_generated_request_gets_a_server_error_as_any_of_three_roles(client, app):
    route_payments_to(app)  # the payments sandbox answers, as it does when the app serves
    roles, ids = await _roles()
    document = (await client.get("/schema/openapi.json")).json()
    cases = generated_cases(document)
    operations = {(c.method, c.path) for c in cases}
    assert len(operations) >= len([m for item in document["paths"].values() for m in item if m != "parameters"]) * 0.9
    chooser = random.Random(0)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    tokens = {role: await token_for(user) for role, user in roles.items()}
    for case in cases:
        for role, user in roles.items():
            if case.path == "/readyz":
                await heartbeat.beat()  # a background worker reports, as when the app serves (503 without one, by design)
            request = _request(case, tokens[role], ids, real=chooser.random() < 0.5)
            response = await client.request(**request)
            if (request["method"], case.path) == ("DELETE", "/api/v1/auth/tokens/current"):
                tokens[role] = await token_for(user)  # signed out: sign in again for the next cases
            statuses[response.status_code] += 1
            where = f"{request['method']} {request['url']} as {role}"
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code} {response.text[:300]}\n  {case.as_curl_command()}")
            elif response.status_code >= 400 and request["url"].startswith("http://testserver/api/") and \
                    response.status_code != 405 and not response.headers.get("content-type", "").startswith("application/problem+json"):
                failures.append(f"{where}: {response.status_code} is not problem+json ({response.headers.get('content-type')})")
    assert not failures, f"{len(failures)} of {len(cases) * len(roles)} requests failed:\n" + "\n".join(failures[:30])
    # The generated requests reach the services: some succeed, some are refused for their content.
    assert sum(n for code, n in statuses.items() if code < 300) >= 50 and statuses[422] >= 30, statuses
