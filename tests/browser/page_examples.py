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


EXAMPLES: dict[str, Callable[[Any], Awaitable[str]]] = {
    "token": _invitation_token,
}

# Pages the sweep never visits (not HTML, or redirects only).
SKIP_PREFIXES = ("/api/", "/schema", "/static", "/sandbox", "/language/", "/healthz")
