"""Background work: forget sign-in attempts and mailed links once no rule needs them."""

from datetime import timedelta

from marketplace.accounts.signin import LONGEST
from marketplace.accounts.tables import EmailLink, LoginAttempt
from marketplace.core.clock import now

KEEP = LONGEST + timedelta(days=1)  # past the longest throttle window, and every link (at most a day) expired


async def forget_stale_sign_in_records() -> int:
    """Delete attempts older than every throttle window, and mailed links (a pending registration keeps a
    password hash) two days after they were made. Returns how many rows went."""
    moment = now()
    attempts = await LoginAttempt.delete().where(LoginAttempt.at < moment - KEEP).returning(LoginAttempt.id)
    links = await EmailLink.delete().where(EmailLink.created_at < moment - KEEP).returning(EmailLink.id)
    return len(attempts) + len(links)


JOBS = [forget_stale_sign_in_records]
