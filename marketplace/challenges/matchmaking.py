"""Matchmaking: follows, subscriptions (topics, CPV prefixes, keywords) and co-sponsors.

When a challenge is published every matching subscriber is told once: an in-app notification at
once, and an e-mail digest of everything new gathered by the worker."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from marketplace.accounts.tables import User
from marketplace.challenges import rules, schemas
from marketplace.challenges.services import visible_row
from marketplace.challenges.tables import CoSponsor, Follow, MatchNotice, Subscription
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound
from marketplace.core.i18n import N_
from marketplace.mail.services import enqueue_mail, notify
from marketplace.transparency.audit import record

DIGEST_DELAY = timedelta(hours=1)


def matches(row: dict, subscription: dict) -> bool:
    """Does the challenge fall under any of the subscription's topics, CPV prefixes or keywords?"""
    topics = set(json.loads(row["topics"]))
    if topics & set(json.loads(subscription["topics"])):
        return True
    codes = json.loads(row["cpv_codes"])
    if any(code.startswith(prefix) for prefix in json.loads(subscription["cpv_prefixes"]) for code in codes):
        return True
    text = " ".join(row[f] for f in ("title", "summary", "problem")).lower()
    return any(re.search(rf"\b{re.escape(k.lower())}", text) for k in json.loads(subscription["keywords"]))


async def tell_subscribers(row: dict) -> int:
    """Tell every matching subscriber about a newly published challenge, once (inside the caller's transaction)."""
    told: set[Any] = set()
    for subscription in await Subscription.select():
        user = subscription["user"]
        if user in told or not matches(row, subscription):
            continue
        if await MatchNotice.exists().where((MatchNotice.user == user) & (MatchNotice.challenge == row["id"])):
            continue
        await MatchNotice.insert(MatchNotice(user=user, challenge=row["id"]))
        await notify(user, "challenge_match", N_("New challenge for you: %(title)s"), row["summary"][:300], f"/challenges/{row['id']}",
                     title=row["title"])
        told.add(user)
    return len(told)


async def send_match_digests() -> int:
    """One e-mail per subscriber listing the matching challenges published since their last digest, sent once
    the oldest of them has waited `DIGEST_DELAY` (so that a busy morning makes one e-mail, not ten)."""
    pending = await MatchNotice.select(MatchNotice.id, MatchNotice.user, MatchNotice.created_at, MatchNotice.challenge.id,
                                       MatchNotice.challenge.title).where(
        MatchNotice.emailed_at.is_null()).order_by(MatchNotice.created_at).limit(1000)
    by_user: dict[Any, list[dict]] = {}
    for notice in pending:
        by_user.setdefault(notice["user"], []).append(notice)
    due_before = now() - DIGEST_DELAY
    by_user = {user: notices for user, notices in by_user.items() if as_utc(notices[0]["created_at"]) <= due_before}
    sent = 0
    for user_id, notices in by_user.items():
        user = await User.select(User.email, User.name, User.locale).where(User.id == user_id).first()
        async with transaction():
            claimed = await MatchNotice.update({MatchNotice.emailed_at: now()}).where(
                MatchNotice.id.is_in([n["id"] for n in notices]) & MatchNotice.emailed_at.is_null()).returning(MatchNotice.id)
            if not claimed or user is None:
                continue
            ids = {c["id"] for c in claimed}
            items = [{"title": n["challenge.title"], "link": f"/challenges/{n['challenge.id']}"} for n in notices if n["id"] in ids]
            await enqueue_mail(user["email"], "challenge_digest", locale=user["locale"], name=user["name"], items=items)
        sent += 1
    return sent


async def follow(principal: Principal, challenge_id: Any, following: bool = True) -> schemas.FollowOut:
    row = await visible_row(principal, challenge_id)
    if row["status"] not in ("published", "awarded", "closed"):
        raise Conflict(f"A challenge that is {row['status']} cannot be followed.")
    if following:
        try:
            await Follow.insert(Follow(challenge=row["id"], user=principal.user_id))
        except Exception as exc:
            if not is_integrity_error(exc):
                raise
    else:
        await Follow.delete().where((Follow.challenge == row["id"]) & (Follow.user == principal.user_id))
    return schemas.FollowOut(challenge_id=str(row["id"]), following=following)


async def is_following(principal: Principal | None, challenge_id: Any) -> bool:
    if principal is None:
        return False
    return await Follow.exists().where((Follow.challenge == challenge_id) & (Follow.user == principal.user_id))


def subscription_out(row: dict) -> schemas.SubscriptionOut:
    return schemas.SubscriptionOut(id=str(row["id"]), topics=json.loads(row["topics"]), cpv_prefixes=json.loads(row["cpv_prefixes"]),
                                   keywords=json.loads(row["keywords"]), created_at=rfc3339(row["created_at"]) or "")


async def subscribe(principal: Principal, data: schemas.SubscriptionIn) -> schemas.SubscriptionOut:
    """Be told of new challenges matching any of these topics, CPV prefixes or keywords."""
    topics, keywords = rules.normalise_list(data.topics), rules.normalise_list(data.keywords)
    prefixes = rules.normalise_list(data.cpv_prefixes, lower=False)
    errors = [FieldError(f"cpv_prefixes[{i}]", "must be 2 to 8 digits (the start of a CPV code)")
              for i, p in enumerate(prefixes) if not re.fullmatch(r"\d{2,8}", p)]
    if not (topics or keywords or prefixes):
        errors.append(FieldError("topics", "give at least one topic, CPV prefix or keyword"))
    if errors:
        raise Invalid(errors)
    row = Subscription(user=principal.user_id, topics=json.dumps(topics), cpv_prefixes=json.dumps(prefixes), keywords=json.dumps(keywords))
    await row.save()
    return subscription_out(await Subscription.select().where(Subscription.id == row.id).first())


async def subscriptions_of(principal: Principal) -> schemas.SubscriptionList:
    rows = await Subscription.select().where(Subscription.user == principal.user_id).order_by(Subscription.created_at)
    return schemas.SubscriptionList(items=[subscription_out(r) for r in rows])


async def unsubscribe(principal: Principal, subscription_id: Any) -> None:
    from marketplace.challenges.services import parse_id

    deleted = await Subscription.delete().where(
        (Subscription.id == parse_id(subscription_id, "subscription")) & (Subscription.user == principal.user_id)).returning(Subscription.id)
    if not deleted:
        raise NotFound("subscription")


async def co_sponsor(principal: Principal, challenge_id: Any, data: schemas.CoSponsorIn) -> list[schemas.CoSponsorOut]:
    """Another public body says "we have this problem too"; its team may then follow the whole procedure."""
    from marketplace.challenges.services import co_sponsors_out

    row = await visible_row(principal, challenge_id)
    if row["status"] != "published":
        raise Conflict("Only a published challenge can be co-sponsored.")
    bodies = [o for o in principal.organisations("civil_servant", "procurement_officer", "buyer_admin")]
    org_id = data.organisation_id or (bodies[0] if len(bodies) == 1 else None)
    if org_id is None:
        raise Invalid(FieldError("organisation_id", "is required: you belong to several public bodies"))
    if org_id not in bodies:
        raise Invalid(FieldError("organisation_id", "is not a public body you belong to"))
    if org_id == str(row["buyer"]):
        raise Conflict("The buyer cannot co-sponsor its own challenge.")
    try:
        async with transaction():
            await CoSponsor.insert(CoSponsor(challenge=row["id"], organisation=org_id, declared_by=principal.user_id,
                                             statement=data.statement.strip()))
            if not await Follow.exists().where((Follow.challenge == row["id"]) & (Follow.user == principal.user_id)):
                await Follow.insert(Follow(challenge=row["id"], user=principal.user_id))
            await record(principal, "challenge.co_sponsored", "challenge", row["id"], {"organisation": str(org_id)})
    except Exception as exc:
        if is_integrity_error(exc):
            raise Conflict("Your organisation already co-sponsors this challenge.") from None
        raise
    return await co_sponsors_out(row["id"])


async def co_sponsor_organisations(challenge_id: Any) -> list[str]:
    """Public bodies that co-sponsor the challenge (other domains may let them follow the procedure)."""
    return [str(r["organisation"]) for r in await CoSponsor.select(CoSponsor.organisation).where(CoSponsor.challenge == challenge_id)]

