"""Search forgives typos on both databases: a mistyped word finds the challenges of the most similar known word,
and the catalogue offers "did you mean"; a draft's words are never suggested; the common search costs what it did."""

from marketplace.challenges import catalogue
from marketplace.challenges.search_index import known_words, rebuild_vocabulary, similar_words, similarity
from marketplace.challenges.tables import SearchWord
from marketplace.core.db import is_postgres
from tests.factories_challenges import make_challenge
from tests.querycount import counted

PLAIN = {"summary": "A summary.", "affected_users": "Residents.", "desired_outcomes": "Something better.", "topics": ["general"]}


async def _catalogue(client, **params):
    response = await client.get("/api/v1/challenges", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _titles(page):
    return [item["title"] for item in page["items"]]


def test_similarity_is_pg_trgm_s_measure():
    assert similarity("emergncy", "emergency") == 7 / 12
    assert similarity("Sécurité", "securite") == 1.0
    assert similarity("tram", "submarine") == 0.0


async def test_a_typo_finds_the_challenge_and_did_you_mean_is_offered(client):
    await make_challenge(**PLAIN, title="Triage of emergency calls", problem="Operators cannot tell urgent calls apart at peaks.")
    await make_challenge(**PLAIN, title="Bike parking near stations", problem="Commuters cannot find a free rack.")

    page = await _catalogue(client, q="emergncy")
    assert _titles(page) == ["Triage of emergency calls"]
    assert page["similar"] is True and page["did_you_mean"] == "emergency"
    assert page["next_cursor"] is None

    both = await _catalogue(client, q="urgnt calls")  # one word mistyped, the other right
    assert _titles(both) == ["Triage of emergency calls"] and both["did_you_mean"] == "urgent calls"

    exact = await _catalogue(client, q="emergency")  # what "did you mean" leads to
    assert _titles(exact) == ["Triage of emergency calls"]
    assert exact["similar"] is False and exact["did_you_mean"] is None
    nothing = await _catalogue(client, q="submarine")
    assert nothing == {"items": [], "next_cursor": None, "did_you_mean": None, "similar": False}


async def test_a_draft_s_words_are_never_suggested(client):
    await make_challenge(**PLAIN, title="Secret hovercraft tender", published=False)
    await make_challenge(**PLAIN, title="Bridge inspection drones")
    assert await known_words(["hovercraft", "bridge"]) == {"bridge"}
    page = await _catalogue(client, q="hovercraf")
    assert page["items"] == [] and page["did_you_mean"] is None


async def test_of_equally_similar_words_the_one_more_challenges_use_is_suggested(client):
    await make_challenge(**PLAIN, title="Flooding of cellars", problem="Cellars flood after storms.")
    await make_challenge(**PLAIN, title="Flooding of underpasses", problem="Underpasses flood.")
    await make_challenge(**PLAIN, title="Rain gauges", problem="Flodding reported late.")  # a typo in a challenge
    page = await _catalogue(client, q="floding")
    assert page["similar"] is True and page["did_you_mean"] == "flooding"
    assert set(_titles(page)) == {"Flooding of cellars", "Flooding of underpasses", "Rain gauges"}


async def test_few_results_offer_a_spelling_that_finds_more(client):
    for n in range(3):
        await make_challenge(**PLAIN, title=f"Inspection of bridges {n}")
    await make_challenge(**PLAIN, title="Bridgwater canal locks")
    page = await _catalogue(client, q="bridgw")  # a prefix of one word, and like a word three challenges use
    assert _titles(page) == ["Bridgwater canal locks"]
    assert page["similar"] is False and page["did_you_mean"] == "bridges"
    page = await _catalogue(client, q="bridgwater")  # known as typed: no suggestion
    assert _titles(page) == ["Bridgwater canal locks"] and page["did_you_mean"] is None


async def test_similar_results_page_on_with_their_cursor(client):
    for n in range(3):
        await make_challenge(**PLAIN, title=f"Heatwave shelter {n}")
    first = await _catalogue(client, q="heatwav shelter", limit="2")
    assert first["similar"] is False and len(first["items"]) == 2  # a prefix: found as typed
    first = await _catalogue(client, q="haetwave", limit="2")
    assert first["similar"] is True and len(first["items"]) == 2 and first["next_cursor"]
    rest = await _catalogue(client, q="haetwave", limit="2", cursor=first["next_cursor"])
    assert rest["similar"] is True and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert sorted(_titles(first) + _titles(rest)) == [f"Heatwave shelter {n}" for n in range(3)]
    forged = await client.get("/api/v1/challenges", params={"q": "haetwave", "cursor": first["next_cursor"][:-3] + "xyz"})
    assert forged.status_code == 422 and forged.json()["errors"][0]["field"] == "cursor"


async def test_words_without_their_accents_and_amended_words_are_found(client):
    from tests.factories import token_for
    from tests.factories_challenges import make_buyer_team

    team = await make_buyer_team()
    challenge = await make_challenge(team.org, **PLAIN, title="Sécurité des passages piétons")
    page = await _catalogue(client, q="securite")
    if is_postgres():  # PostgreSQL's index keeps accents: found through the similar word
        assert page["similar"] is True and page["did_you_mean"] == "sécurité"
    assert _titles(page) == ["Sécurité des passages piétons"]

    amended = await client.patch(f"/api/v1/challenges/{challenge.id}", headers=await token_for(team.civil_servant),
                                 json={"problem": "Crossings near schools are dangerous at dusk.", "change_note": "Clearer problem."})
    assert amended.status_code == 200, amended.text
    assert await similar_words("crosings") == ["crossings"]


async def test_the_vocabulary_is_rebuilt_from_the_public_challenges():
    await make_challenge(**PLAIN, title="Pothole detection")
    await SearchWord.raw("DELETE FROM search_word")
    assert await known_words(["pothole"]) == set()
    assert await rebuild_vocabulary() >= 2
    assert await known_words(["pothole", "detection"]) == {"pothole", "detection"}
    assert await similar_words("pothol") == ["pothole"]


async def test_a_search_that_finds_enough_runs_no_extra_query():
    for n in range(3):
        await make_challenge(**PLAIN, title=f"Pothole number {n}")
    async with counted() as queries:
        page = await catalogue.search(catalogue.CatalogueQuery(q="pothole"))
    assert len(page.items) == 3 and page.did_you_mean is None
    assert len(queries) == (1 if is_postgres() else 2), queries  # SQLite first counts the matches (bounded)


async def test_the_catalogue_page_offers_did_you_mean_keeping_the_filters(client):
    await make_challenge(**{**PLAIN, "topics": ["public safety"]}, title="Triage of emergency calls")
    page = await client.get("/challenges", params={"q": "emergncy", "topic": "public safety"})
    assert page.status_code == 200 and "Triage of emergency calls" in page.text
    assert "No challenge contains “emergncy”. These contain similar words." in page.text
    assert 'href="/challenges?q=emergency&amp;topic=public+safety">emergency</a>' in page.text
    client.cookies.set("mp_lang", "fr")
    french = await client.get("/challenges", params={"q": "emergncy"})
    assert "Vouliez-vous dire :" in french.text and "Aucun défi ne contient « emergncy »" in french.text


async def test_the_openapi_schema_documents_the_suggestion(client):
    schema = (await client.get("/schema/openapi.json")).json()
    page = schema["components"]["schemas"]["ChallengePage"]["properties"]
    assert "most similar word" in str(page["did_you_mean"]) and "words similar" in str(page["similar"])
