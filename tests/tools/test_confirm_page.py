"""The confirmation page (`oauth/confirm_page.py`): only a person who holds the grant sends, once.

In Chromium: with the key typed again, and with the cookie the consent page set in that browser.
Over plain HTTP: everything that must send nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.browser import OpenPage
from tests.conftest import LiveServer, serve
from tests.oauth.connections_flow import unlock
from tests.oauth.flow import Pkce, authorize_params, register
from tests.toolkit import eventually
from tests.tools.person import csrf_of, decide_on_page, link_in
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

# The activity flush runs every 5 s; this is its bound with room.
ACTIVITY_FLUSH_BOUND_SECONDS: Final = 12.0
SEND: Final = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": "See you at 3."}


async def hold(server: LiveServer, headers: dict[str, str]) -> str:
    """Ask the gateway to send; the link in the held send's answer."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "send-message", "arguments": SEND},
    }
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{server.url}/mcp", json=body, headers=headers | {"accept": "application/json"}
        )
    result = response.json()["result"]
    assert result["isError"] is True
    return link_in(result["content"][0]["text"])


async def held_by_key(server: LiveServer) -> str:
    return await hold(server, server.headers(SANDBOX_API_KEY))


def sent(sandbox: SandboxState) -> list[str]:
    return [message["text"] for message in sandbox.sent_messages]


async def press_send(page: Page) -> None:
    await page.click('button[name="action"][value="send"]')
    await expect(page.locator("h1")).to_have_text("Sent")


async def test_the_page_sends_when_the_key_is_typed_again(
    held_server: LiveServer, sandbox: SandboxState, open_page: OpenPage
) -> None:
    watched = await open_page(await held_by_key(held_server))
    page = watched.page
    await expect(page.locator("#text")).to_have_text("See you at 3.")
    await expect(page.locator("#recipients li")).to_have_text([seed.JORDAN_NUMBER])
    await page.fill("#api_key", SANDBOX_API_KEY)
    await press_send(page)
    assert sent(sandbox) == ["See you at 3."]
    assert watched.csp_violations == []
    assert watched.console_errors == []


@pytest.fixture(scope="module")
def catcher() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in OAuth client's redirect URI, recording each query it receives."""
    queries: list[dict[str, str]] = []

    async def callback(request: Request) -> HTMLResponse:
        queries.append(dict(request.query_params))
        return HTMLResponse("<!doctype html><title>Back at the client</title>")

    for url in serve(Starlette(routes=[Route("/callback", callback)])):
        yield f"{url}/callback", queries


async def sign_in_in_the_browser(server: LiveServer, page: Page, catcher: Any) -> str:
    """The whole consent in `page`; an access token for the sign-in."""
    redirect_uri, queries = catcher
    pkce = Pkce.new()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        client = await register(http, redirect_uris=[redirect_uri], client_name="Assistant")
        params = authorize_params(client["client_id"], pkce, redirect_uri=redirect_uri)
        await page.goto(f"{server.url}/authorize?{urlencode(params)}")
        await page.fill("#api_key", SANDBOX_API_KEY)
        await page.click('button[name="action"][value="allow"]')
        # The choices step; its defaults: every inbox, ask before each send.
        await expect(page.locator("#choices")).to_be_visible()
        await page.click('button[name="action"][value="allow"]')
        await page.wait_for_url(f"{redirect_uri}?*")
        tokens = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": queries[-1]["code"],
                "code_verifier": pkce.verifier,
                "client_id": client["client_id"],
                "redirect_uri": redirect_uri,
            },
        )
    access_token: str = tokens.json()["access_token"]
    return access_token


async def test_the_page_sends_for_the_browser_that_gave_consent_without_the_key(
    held_server: LiveServer, sandbox: SandboxState, open_page: OpenPage, catcher: Any
) -> None:
    watched = await open_page(f"{held_server.url}/")
    page = watched.page
    token = await sign_in_in_the_browser(held_server, page, catcher)
    link = await hold(held_server, {"authorization": f"Bearer {token}"})
    await page.goto(link)
    await expect(page.locator("#api_key")).to_have_count(0)
    await press_send(page)
    assert sent(sandbox) == ["See you at 3."]
    assert watched.csp_violations == []


async def test_opening_the_page_sends_nothing(held_server: LiveServer, sandbox: SandboxState) -> None:
    async with httpx.AsyncClient() as http:
        page = await http.get(await held_by_key(held_server))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert sent(sandbox) == []


async def test_cancelling_on_the_page_sends_nothing(held_server: LiveServer, sandbox: SandboxState) -> None:
    answer = await decide_on_page(await held_by_key(held_server), "cancel")
    assert answer.status_code == 409
    assert "The person cancelled this send. Nothing was sent." in answer.text
    assert sent(sandbox) == []


async def test_a_person_without_the_cookie_or_the_key_sends_nothing(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    answer = await decide_on_page(await held_by_key(held_server), api_key="op-someone-elses-key-000")
    assert answer.status_code == 403
    assert "no matching OpenPhone key was typed" in answer.text
    assert sent(sandbox) == []


async def test_a_post_not_made_from_the_page_sends_nothing(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    link = await held_by_key(held_server)
    async with httpx.AsyncClient() as http:
        answer = await http.post(link, data={"csrf": "guessed", "action": "send", "api_key": SANDBOX_API_KEY})
    assert answer.status_code == 403
    assert "was not submitted from the page this server showed" in answer.text
    assert sent(sandbox) == []


async def test_a_second_confirmation_sends_nothing_again(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    link = await held_by_key(held_server)
    async with httpx.AsyncClient() as browser:
        form = {"csrf": csrf_of((await browser.get(link)).text), "action": "send", "api_key": SANDBOX_API_KEY}
        first = await browser.post(link, data=form)
        second = await browser.post(link, data=form)
    assert (first.status_code, second.status_code) == (200, 409)
    assert "This send was already confirmed and sent. It was not sent again." in second.text
    assert sent(sandbox) == ["See you at 3."]


async def test_a_send_confirmed_on_the_page_is_listed_in_the_keys_activity(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    """Issue 25: the page's send is a write of the credential that asked for it ("direct": the key)."""
    sent_row = re.compile(r"<td><code>send-message</code></td><td>direct</td><td>([^<]*)<code")
    answer = await decide_on_page(await held_by_key(held_server))
    assert answer.status_code == 200
    async with httpx.AsyncClient(base_url=held_server.url, timeout=10) as web:

        async def listed() -> bool:
            return sent_row.search((await unlock(web)).text) is not None

        await eventually(listed, ACTIVITY_FLUSH_BOUND_SECONDS)
        found = sent_row.search((await unlock(web)).text)
    assert found is not None
    assert found.group(1).strip() == seed.JORDAN_NUMBER
    assert sent(sandbox) == ["See you at 3."]


async def test_an_unknown_link_answers_404_and_sends_nothing(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    async with httpx.AsyncClient() as http:
        page = await http.get(f"{held_server.url}/confirm/not-a-pending-send")
    assert page.status_code == 404
    assert "This confirmation link is not known" in page.text
    assert sent(sandbox) == []
