"""An incubator finds a company by name or enterprise number on its account page and asks it to join the portfolio."""

import re

from marketplace.accounts.tables import PortfolioLink
from tests.factories import csrf_token, make_org, make_user, signed_in_client


async def test_an_incubator_finds_a_company_by_name_or_number_and_asks_it_to_join(client):
    amina = await make_user("incubator_member")
    triage = await make_org("company", name="TriageVoice", enterprise_number="0123.456.749")
    await make_org("company", name="GeoFlow Mobility")
    await make_org("public_body", name="Triage Agency")  # not a company: never offered
    await signed_in_client(client, amina)

    account = await client.get("/account")
    assert "(its id)" not in account.text and "name or enterprise number" in account.text

    for query in ("triage", "0123456749", "0123.456.749", "123456749"):
        found = await client.get("/account", params={"company_q": query})
        assert found.status_code == 200
        assert "TriageVoice" in found.text and "GeoFlow" not in found.text and "Triage Agency" not in found.text, query
    assert "No company matches" in (await client.get("/account", params={"company_q": "nobody here"})).text

    page = (await client.get("/account", params={"company_q": "triage"})).text
    assert re.search(rf'name="company_id" value="{triage.id}"', page)
    token = await csrf_token(client, "/account")
    asked = await client.post("/account/portfolio", data={"incubator_id": str(amina.org.id), "company_id": str(triage.id),
                                                          "_csrf_token": token})
    assert asked.status_code == 303 and "Request sent" in (await client.get(asked.headers["location"])).text
    assert await PortfolioLink.count().where(PortfolioLink.company == triage.id) == 1


async def test_people_outside_incubators_get_no_company_search(client):
    lena = await make_user("company_member")
    await make_org("company", name="TriageVoice")
    await signed_in_client(client, lena)
    page = await client.get("/account", params={"company_q": "triage"})
    assert page.status_code == 200 and 'name="company_q"' not in page.text
