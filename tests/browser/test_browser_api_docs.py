"""The API documentation renders in Chromium with every request to another host refused (an offline laptop),
and the page asks for none."""


async def test_the_api_documentation_renders_without_the_internet(page, server):
    elsewhere: list[str] = []

    async def only_this_app(route):
        if route.request.url.startswith(server) or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_this_app)
    await page.goto("/schema")
    await page.get_by_role("heading", name="Innovation procurement marketplace API").first.wait_for(timeout=30_000)
    assert await page.get_by_text("/api/v1/challenges").count() > 0 or await page.locator("[data-section-id]").count() > 10
    assert elsewhere == []
    await page.wait_for_timeout(500)  # the sidebar's attribution image, were it asked for, would be by now
    assert elsewhere == []
