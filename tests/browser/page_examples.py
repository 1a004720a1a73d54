"""How the accessibility sweep fills path parameters of pages (e.g. `/challenges/{challenge_id}`).

The sweep (test_browser_accessibility.py) visits every GET page of the app with the demo data loaded.
For a path parameter it first looks here, in EXAMPLES (parameter name -> async function returning a
value, given the loaded demo context); otherwise a parameter named `<thing>_id` or `id` takes the id of
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


EXAMPLES: dict[str, Callable[[Any], Awaitable[str]]] = {
    "token": _invitation_token,
    "experiment_id": _company_experiment,
    "result_id": _finished_experiment,
}

# Pages the sweep never visits (not HTML, or redirects only).
SKIP_PREFIXES = ("/api/", "/schema", "/static", "/sandbox", "/language/", "/healthz")
