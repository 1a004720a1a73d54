"""Matchmaking: follows, subscriptions (topics, CPV prefixes, keywords) and co-sponsors.

When a challenge is published every matching subscriber is told once: an in-app notification at
once, and an e-mail digest of everything new gathered by the worker."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec

from marketplace.accounts.tables import User
from marketplace.challenges import rules, schemas
from marketplace.challenges.search_index import COLUMNS, plain
from marketplace.challenges.services import visible_row
from marketplace.challenges.tables import CoSponsor, Follow, MatchNotice, Subscription
from marketplace.core.auth import Principal
from marketplace.core.clock import as_utc, now, rfc3339
from marketplace.core.db import is_integrity_error, transaction
from marketplace.core.errors import Conflict, FieldError, Invalid, NotFound
from marketplace.core.i18n import N_
from marketplace.core.paging import MAX_LIMIT, check_limit, decode_cursor, encode_cursor
from marketplace.mail.services import enqueue_mail, notify
from marketplace.transparency.audit import record

DIGEST_DELAY = timedelta(hours=1)


def matches(row: dict, subscription: dict) -> bool:
    """Does the challenge fall under any of the subscription's topics, CPV prefixes or keywords, or its saved search?"""
    if subscription.get("search") and matches_search(row, json.loads(subscription["search"])):
        return True
    topics = set(json.loads(row["topics"]))
    if topics & set(json.loads(subscription["topics"])):
        return True
    codes = json.loads(row["cpv_codes"])
    if any(code.startswith(prefix) for prefix in json.loads(subscription["cpv_prefixes"]) for code in codes):
        return True
    text = " ".join(row[f] for f in ("title", "summary", "problem")).lower()
    return any(re.search(rf"\b{re.escape(k.lower())}", text) for k in json.loads(subscription["keywords"]))


def matches_search(row: dict, search: dict) -> bool:
    """Would the catalogue list the challenge for this saved search? Every word starts a word of its searched text
    (compared without case and accents, as SQLite's index does), and the topic, CPV prefix and budgets fit."""
    document = {plain(w) for w in re.findall(r"\w+", " ".join(str(row[c] or "") for c in COLUMNS))}
    for word in re.findall(r"\w+", search.get("q") or ""):
        if not any(d.startswith(plain(word)) for d in document):
            return False
    if search.get("topic") and search["topic"].lower() not in {t.lower() for t in json.loads(row["topics"])}:
        return False
    if search.get("cpv") and not any(code.startswith(search["cpv"]) for code in json.loads(row["cpv_codes"])):
        return False
    budget = int(row["budget_cap_cents"])
    if search.get("min_budget") is not None and budget < search["min_budget"]:
        return False
    return search.get("max_budget") is None or budget <= search["max_budget"]


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
    search = msgspec.convert(json.loads(row["search"]), schemas.SavedSearch) if row.get("search") else None
    return schemas.SubscriptionOut(id=str(row["id"]), topics=json.loads(row["topics"]), cpv_prefixes=json.loads(row["cpv_prefixes"]),
                                   keywords=json.loads(row["keywords"]), created_at=rfc3339(row["created_at"]) or "", search=search,
                                   catalogue_url=catalogue_url(search) if search else None)


def catalogue_url(search: schemas.SavedSearch) -> str:
    """The catalogue page listing what a saved search matches now (its budgets in euros, as the page takes them)."""
    def euros(cents: int) -> str:
        return str(cents // 100) if cents % 100 == 0 else f"{cents / 100:.2f}"

    params = {"q": search.q, "topic": search.topic, "cpv": search.cpv,
              "min_budget": euros(search.min_budget) if search.min_budget is not None else "",
              "max_budget": euros(search.max_budget) if search.max_budget is not None else ""}
    return "/challenges?" + urlencode({k: v for k, v in params.items() if v})


def _checked_search(search: schemas.SavedSearch, errors: list[FieldError]) -> dict | None:
    """The saved search as stored (words and topic tidied), or None when it has no part."""
    out = {"q": " ".join(search.q.split()), "topic": " ".join(search.topic.split()).lower(), "cpv": search.cpv.strip(),
           "min_budget": search.min_budget, "max_budget": search.max_budget}
    if out["cpv"] and not re.fullmatch(r"\d{1,8}", out["cpv"]):
        errors.append(FieldError("search.cpv", "must be 1 to 8 digits (the start of a CPV code)"))
    if out["min_budget"] is not None and out["max_budget"] is not None and out["min_budget"] > out["max_budget"]:
        errors.append(FieldError("search.max_budget", "must not be below the minimum budget"))
    return out if any(v not in ("", None) for v in out.values()) else None


async def subscribe(principal: Principal, data: schemas.SubscriptionIn) -> schemas.SubscriptionOut:
    """Be told of new challenges matching any of these topics, CPV prefixes or keywords, or a saved catalogue search."""
    topics, keywords = rules.normalise_list(data.topics), rules.normalise_list(data.keywords)
    prefixes = rules.normalise_list(data.cpv_prefixes, lower=False)
    errors = [FieldError(f"cpv_prefixes[{i}]", "must be 2 to 8 digits (the start of a CPV code)")
              for i, p in enumerate(prefixes) if not re.fullmatch(r"\d{2,8}", p)]
    search = _checked_search(data.search, errors) if data.search is not None else None
    if not (topics or keywords or prefixes or search):
        errors.append(FieldError("search", "give search words or at least one filter") if data.search is not None
                      else FieldError("topics", "give at least one topic, CPV prefix or keyword"))
    if errors:
        raise Invalid(errors)
    row = Subscription(user=principal.user_id, topics=json.dumps(topics), cpv_prefixes=json.dumps(prefixes), keywords=json.dumps(keywords),
                       search=json.dumps(search) if search else None)
    await row.save()
    return subscription_out(await Subscription.select().where(Subscription.id == row.id).first())


async def subscriptions_of(principal: Principal, limit: int = MAX_LIMIT, cursor: str | None = None) -> schemas.SubscriptionList:
    """A member's alerts, oldest first, in pages (`limit`, `cursor`: by creation time and id)."""
    check_limit(limit)
    after = decode_cursor(cursor, 2)
    query = Subscription.select().where(Subscription.user == principal.user_id)
    if after is not None:
        query = query.where((Subscription.created_at > after[0]) | ((Subscription.created_at == after[0]) & (Subscription.id > after[1])))
    rows = await query.order_by(Subscription.created_at, Subscription.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return schemas.SubscriptionList(items=[subscription_out(r) for r in rows],
                                    next_cursor=encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None)


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

