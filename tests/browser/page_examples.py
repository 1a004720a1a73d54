"""How the accessibility sweep fills path parameters of pages (e.g. `/challenges/{challenge_id}`).

The sweep (test_browser_accessibility.py) visits every GET page of the app with the demo data loaded.
For a path parameter it first looks here, in EXAMPLES (parameter name -> async function returning a
value or a list of values to try); otherwise a parameter named `<thing>_id` or `id` takes the id of
the first row of the table called `<thing>` (or `<thing>s`). A page whose parameters cannot be filled is
listed as skipped in the test's output. Append your own entries here when the generic rule does not fit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from marketplace.accounts.tables import Invitation, Organisation
from marketplace.core.clock import now
from marketplace.core.security import hash_token, new_token


async def _invitation_token(ctx: Any) -> str:
    """A fresh, valid invitation (tokens are stored hashed, so the demo cannot provide one)."""
    token = new_token()
    body = await Organisation.select(Organisation.id).where(Organisation.kind == "public_body").first()
    await Invitation.insert(Invitation(organisation=body["id"], email="new.colleague@112.demo", role="evaluator",
                                       token_hash=hash_token(token), expires_at=now() + timedelta(days=7)))
    return token


async def _company_experiment(ctx: Any) -> str:
    """The demo experiment of the company member the sweep signs in as (TriageVoice)."""
    from marketplace.experiments.tables import Experiment

    row = await Experiment.select(Experiment.id).where(Experiment.company.name == "TriageVoice BV").first()
    return str(row["id"])


async def _finished_experiment(ctx: Any) -> str:
    from marketplace.experiments.tables import Experiment

    row = await Experiment.select(Experiment.id).where(Experiment.status == "finished").first()
    return str(row["id"])


async def _stage_keys(ctx: Any) -> list[str]:
    """Every stage key of the demo challenges (the sweep pairs them with each challenge)."""
    from marketplace.challenges.tables import ChallengeStage

    return sorted({row["key"] for row in await ChallengeStage.select(ChallengeStage.key)})


async def _company_of_the_sweep(ctx: Any) -> str:
    row = await Organisation.select(Organisation.id).where(Organisation.name == "TriageVoice BV").first()
    return str(row["id"])


async def _questionnaires(ctx: Any) -> list[str]:
    from marketplace.cocreation.questionnaires import for_public_bodies

    return sorted(q.id for q in for_public_bodies())


# A parameter `<thing>_id` takes ids from the table `<thing>`, `<thing>s` or `..._<thing>`, or from the
# table named here.
ALIASES = {"org": "organisation"}

EXAMPLES: dict[str, Callable[[Any], Awaitable[str | list[str]]]] = {
    "token": _invitation_token,
    "stage": _stage_keys,
    "org_id": _company_of_the_sweep,
    "experiment_id": _company_experiment,
    "result_id": _finished_experiment,
    "questionnaire_id": _questionnaires,
}

# Pages the sweep never visits (not HTML, or redirects only).
SKIP_PREFIXES = ("/api/", "/schema", "/static", "/sandbox", "/language/", "/healthz", "/readyz", "/metrics")
