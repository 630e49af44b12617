"""The "Connected apps" page in Chromium, on a three-machine cluster sharing one Redis (issue 25).

Two assistants sign in with the OAuth flow; the person opens the page, sees both, disconnects one
through its confirmation step, and that assistant's next call is refused on every machine while the
other keeps working.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.browser import OpenPage
from tests.cluster import Cluster, cluster
from tests.oauth.connections_flow import status_with
from tests.oauth.flow import tokens_for
from tests.redis_server import RedisServer
from tests.toolkit import eventually
from tools.sandbox import SANDBOX_API_KEY

pytestmark = pytest.mark.anyio

PROPAGATION_BOUND_SECONDS = 5.0


@pytest.fixture(scope="module")
def machines(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    redis_server.ensure_running()
    with cluster(redis_server.url, tmp_path_factory.mktemp("machines"), OAUTH_RATE_LIMIT="10000") as running:
        yield running


@pytest.mark.parametrize("script", [True, False], ids=["with-script", "without-script"])
async def test_a_disconnect_on_the_page_ends_that_sign_in_on_every_machine(
    machines: Cluster, open_page: OpenPage, screenshots: Path, script: bool
) -> None:
    web = [
        httpx.AsyncClient(base_url=gateway.url, headers=machines.host, timeout=10)
        for gateway in machines.gateways
    ]
    try:
        _, kept = await tokens_for(web[1], client_name="Claude")
        _, gone = await tokens_for(web[2], client_name="ChatGPT")
        watched = await open_page(f"{machines.public_url}/connections", java_script_enabled=script)
        page = watched.page
        await page.get_by_label("Your OpenPhone API key").fill(SANDBOX_API_KEY)
        await page.get_by_role("button", name="Show connected apps").click()
        await expect(page.locator("h2.connection-name").first).to_have_text("ChatGPT")
        await expect(page.locator("h2.connection-name").nth(1)).to_have_text("Claude")
        await page.screenshot(path=screenshots / f"connections-{script}.png", full_page=True)
        await page.get_by_role("button", name="Disconnect ChatGPT").click()
        await expect(page.get_by_role("heading", name="Disconnect ChatGPT?")).to_be_visible()
        # With script the question opens in a dialog on the same page; without, as a page of its own.
        await expect(page.locator("dialog[open]")).to_have_count(1 if script else 0)
        await page.get_by_role("button", name="Yes, disconnect").click()
        await expect(page.get_by_role("heading", name="ChatGPT", exact=True)).to_have_count(0)

        async def refused_everywhere() -> bool:
            return [await status_with(machine, gone["access_token"]) for machine in web] == [401] * 3

        await eventually(refused_everywhere, PROPAGATION_BOUND_SECONDS)
        assert [await status_with(machine, kept["access_token"]) for machine in web] == [200] * 3
        assert (watched.csp_violations, watched.console_errors) == ([], [])
    finally:
        for client in web:
            await client.aclose()
