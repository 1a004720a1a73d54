"""Demo data: a realistic Belgian set of public bodies, incubators, companies and people.

Loading is idempotent: running `marketplace demo` twice changes nothing the second time.
Later domains add their own demo data through `marketplace/<domain>/demo.py` (`async def load(ctx)`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from marketplace.accounts.tables import Membership, Organisation, PortfolioLink, User
from marketplace.core.clock import now
from marketplace.core.db import transaction
from marketplace.core.security import hash_password
from marketplace.settings import get_settings

DEMO_PASSWORD = "marketplace-demo-2026"


@dataclass
class DemoContext:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    challenges: dict[str, object] = field(default_factory=dict)  # filled by marketplace/challenges/demo.py, by key


ORGANISATIONS = [
    # key, kind, name, enterprise number, size
    ("fps_interior", "public_body", "FPS Home Affairs – 112 Emergency Centres", "0308.357.159", None),
    ("ghent", "public_body", "City of Ghent", "0207.451.227", None),
    ("bdti", "incubator", "Brussels Deep Tech Incubator", None, "small"),
    ("wallonia_lab", "incubator", "Wallonia Start Lab", None, "micro"),
    ("triage_ai", "company", "TriageVoice BV", None, "micro"),
    ("geo_mobility", "company", "GeoFlow Mobility SRL", None, "small"),
    ("civic_data", "company", "Civic Data Works NV", None, "small"),
    ("sensor_city", "company", "SensorCity SA", None, "medium"),
    ("lingua_bridge", "company", "LinguaBridge BV", None, "micro"),
]

PEOPLE = [
    # key, e-mail, name, organisation key, roles, locale, description for the login list
    ("admin", "admin@marketplace.demo", "Platform Admin", None, [], "en", "platform admin"),
    ("sofie", "sofie.peeters@112.demo", "Sofie Peeters", "fps_interior", ["civil_servant", "buyer_admin"], "nl", "civil servant, 112 (buyer admin)"),
    ("marc", "marc.dubois@112.demo", "Marc Dubois", "fps_interior", ["procurement_officer"], "fr", "procurement officer, 112"),
    ("ines", "ines.janssens@112.demo", "Ines Janssens", "fps_interior", ["evaluator"], "nl", "evaluator, 112"),
    ("pieter", "pieter.desmet@gent.demo", "Pieter De Smet", "ghent", ["civil_servant", "procurement_officer", "buyer_admin"], "nl", "civil servant and procurement officer, City of Ghent"),
    ("amina", "amina.elidrissi@bdti.demo", "Amina El Idrissi", "bdti", ["incubator_member"], "fr", "incubator member, Brussels Deep Tech Incubator"),
    ("luc", "luc.lambert@wsl.demo", "Luc Lambert", "wallonia_lab", ["incubator_member"], "fr", "incubator member, Wallonia Start Lab"),
    ("lena", "lena.claes@triagevoice.demo", "Lena Claes", "triage_ai", ["company_member"], "en", "founder, TriageVoice"),
    ("thomas", "thomas.martin@geoflow.demo", "Thomas Martin", "geo_mobility", ["company_member"], "fr", "founder, GeoFlow Mobility"),
    ("eva", "eva.wouters@civicdata.demo", "Eva Wouters", "civic_data", ["company_member"], "nl", "CEO, Civic Data Works"),
    ("noah", "noah.leclercq@sensorcity.demo", "Noah Leclercq", "sensor_city", ["company_member"], "fr", "CTO, SensorCity"),
    ("julie", "julie.verhoeven@linguabridge.demo", "Julie Verhoeven", "lingua_bridge", ["company_member"], "nl", "founder, LinguaBridge"),
]


async def _load_accounts(ctx: DemoContext) -> None:
    password_hash = await hash_password(DEMO_PASSWORD)
    for key, kind, name, number, size in ORGANISATIONS:
        org = await Organisation.objects().where(Organisation.name == name).first()
        if org is None:
            org = Organisation(kind=kind, name=name, country="BE", enterprise_number=number, size=size)
            await org.save()
        ctx.orgs[key] = org
    for key, email, name, org_key, roles, locale, description in PEOPLE:
        user = await User.objects().where(User.email == email).first()
        if user is None:
            user = User(email=email, name=name, password_hash=password_hash, locale=locale, is_platform_admin=key == "admin",
                        email_verified_at=now())
            await user.save()
        elif user.email_verified_at is None:  # demo data loaded before addresses were confirmed
            await User.update({User.email_verified_at: now()}).where(User.id == user.id)
        ctx.users[key] = user
        ctx.logins.append((email, DEMO_PASSWORD, description))
        for role in roles:
            org = ctx.orgs[org_key]
            if not await Membership.exists().where((Membership.user == user.id) & (Membership.organisation == org.id) & (Membership.role == role)):
                await Membership.insert(Membership(user=user.id, organisation=org.id, role=role))
    # Incubator portfolios: consented links, and one still waiting for the company.
    for incubator, company, status in (("bdti", "triage_ai", "accepted"), ("bdti", "lingua_bridge", "accepted"),
                                       ("wallonia_lab", "geo_mobility", "pending")):
        inc, com = ctx.orgs[incubator], ctx.orgs[company]
        if not await PortfolioLink.exists().where((PortfolioLink.incubator == inc.id) & (PortfolioLink.company == com.id)):
            await PortfolioLink.insert(PortfolioLink(incubator=inc.id, company=com.id, status=status))


# Domains whose demo data others build on load first, in this order; any other domain follows by name.
DEMO_ORDER = ["challenges", "proposals", "evaluation", "documents", "awards", "payments", "experiments"]


def _domain_demo_modules() -> list[str]:
    domains = [p.parent.name for p in Path(__file__).resolve().parent.glob("*/demo.py")]
    rank = {name: i for i, name in enumerate(DEMO_ORDER)}
    domains.sort(key=lambda name: (rank.get(name, len(DEMO_ORDER)), name))
    return [f"marketplace.{name}.demo" for name in domains]


async def load_demo() -> list[tuple[str, str, str]]:
    """Load every domain's demo data in one transaction; returns (e-mail, password, who) rows."""
    ctx = DemoContext()
    async with transaction():
        await _load_accounts(ctx)
        for name in _domain_demo_modules():
            await importlib.import_module(name).load(ctx)
    return ctx.logins


def print_logins(logins: list[tuple[str, str, str]]) -> None:
    base = get_settings().base_url
    print()
    print(f"The marketplace is at {base}")
    print(f"Demo logins (every password is {DEMO_PASSWORD}):")
    width = max(len(e) for e, _, _ in logins)
    for email, _password, who in logins:
        print(f"  {email.ljust(width)}  {who}")
    print()
