"""The "Connected apps" page over HTTP (issue 25): the key proven as on the consent page, every sign-in
listed, a disconnect confirmed and then final."""

from __future__ import annotations

import re
from typing import Final

import httpx
import pytest

from tests.oauth.connections_flow import family_of, hidden, names, post, status_with, unlock
from tests.oauth.flow import tokens_for
from tests.toolkit import eventually
from tools.sandbox import SANDBOX_API_KEY
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

# The activity flush runs every 5 s; this is its bound with room.
FLUSH_BOUND_SECONDS: Final = 12.0
_AUTHORS: Final = re.compile(r"<tr><td>[^<]*</td><td><code>create-contact</code></td><td>([^<]*)</td>")


async def test_the_page_asks_for_the_key_in_a_form_with_a_nonce_csp(web: httpx.AsyncClient) -> None:
    page = await web.get("/connections")
    assert page.status_code == 200
    assert 'name="api_key"' in page.text
    assert "script-src 'self' 'nonce-" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_a_wrong_key_gets_the_consent_pages_message(web: httpx.AsyncClient) -> None:
    page = await unlock(web, api_key="not-the-key")
    assert page.status_code == 400
    assert "OpenPhone rejected this API key. Check it and paste it again." in page.text


async def test_a_form_without_its_cookie_is_refused(web: httpx.AsyncClient) -> None:
    page = await web.get("/connections")
    web.cookies.clear()
    refused = await post(web, page, api_key="sandbox-demo-key", action="list")
    assert refused.status_code == 403


async def test_every_sign_in_of_the_key_is_listed_newest_first(web: httpx.AsyncClient) -> None:
    await tokens_for(web, client_name="First app")
    await tokens_for(web, client_name="Second app")
    listed = names(await unlock(web))
    assert listed.index("Second app") < listed.index("First app")


async def test_a_disconnect_asks_for_confirmation_first(web: httpx.AsyncClient) -> None:
    _, tokens = await tokens_for(web, client_name="Asked app")
    page = await unlock(web)
    confirm = await post(web, page, action="disconnect", family=family_of(page, "Asked app"))
    assert confirm.status_code == 200
    assert "Disconnect Asked app?" in confirm.text
    assert await status_with(web, tokens["access_token"]) == 200


async def test_a_confirmed_disconnect_ends_that_sign_in_only(web: httpx.AsyncClient) -> None:
    _, kept = await tokens_for(web, client_name="Kept app")
    _, gone = await tokens_for(web, client_name="Gone app")
    page = await unlock(web)
    confirm = await post(web, page, action="disconnect", family=family_of(page, "Gone app"))
    done = await post(web, confirm, action="confirm", family=hidden(confirm)["family"])
    assert done.status_code == 200
    assert "Gone app" not in names(done)
    assert (await status_with(web, gone["access_token"]), await status_with(web, kept["access_token"])) == (
        401,
        200,
    )


async def test_disconnecting_a_sign_in_already_gone_succeeds_quietly(web: httpx.AsyncClient) -> None:
    await tokens_for(web, client_name="Twice app")
    page = await unlock(web)
    family = family_of(page, "Twice app")
    after = await post(web, page, action="confirm", family=family)
    again = await post(web, after, action="confirm", family=family)
    assert again.status_code == 200
    assert "That app was already disconnected." in again.text


async def test_disconnect_all_ends_every_sign_in_of_the_key(web: httpx.AsyncClient) -> None:
    _, tokens = await tokens_for(web, client_name="Any app")
    page = await unlock(web)
    confirm = await post(web, page, action="disconnect-all")
    done = await post(web, confirm, action="confirm-all")
    assert (names(done), await status_with(web, tokens["access_token"])) == ([], 401)


async def test_the_page_lists_writes_by_sign_in_and_direct(web: httpx.AsyncClient) -> None:
    _, tokens = await tokens_for(web, client_name="Writer app")
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "create-contact", "arguments": {"firstName": "Logged"}},
    }
    accept = {"accept": "application/json, text/event-stream"}
    await web.post("/mcp", json=call, headers={**accept, "authorization": f"Bearer {tokens['access_token']}"})
    await web.post("/mcp", json=call, headers={**accept, "x-openphone-api-key": SANDBOX_API_KEY})

    async def listed() -> bool:
        authors = _AUTHORS.findall((await unlock(web)).text)
        return authors[:2] == ["direct", "Writer app"]

    await eventually(listed, FLUSH_BOUND_SECONDS)


async def test_each_sign_in_shows_its_inboxes_send_rule_and_sends_of_the_last_day(
    web: httpx.AsyncClient,
) -> None:
    """Issue 25 with issue 23: the grant's public facts, and what its allowance has counted."""
    choices = [
        ("inboxes", "chosen"),
        ("inbox", seed.MAIN_LINE_ID),
        ("send", "allowance"),
        ("daily_limit", "7"),
    ]
    choices += [("new_numbers", "yes")]
    _, tokens = await tokens_for(web, client_name="Allowance app", choices=choices)
    await tokens_for(web, client_name="Asking app")
    send = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "bulk-messages",
            "arguments": {"from": seed.MAIN_LINE_ID, "to": ["+14155550191", "+14155550192"], "content": "Hi"},
        },
    }
    headers = {"accept": "application/json", "authorization": f"Bearer {tokens['access_token']}"}
    sent = await web.post("/mcp", json=send, headers=headers)
    assert sent.json()["result"]["isError"] is False
    page = (await unlock(web)).text
    allowance = page[page.index("Allowance app") :]
    assert f"<dt>Inboxes</dt><dd>{seed.MAIN_LINE_ID}</dd>" in allowance
    assert (
        "<dt>Sending</dt><dd>up to 7 recipients a day without asking; 2 sent in the last 24 hours</dd>"
        in allowance
    )
    asking = page[page.index("Asking app") :]
    assert "<dt>Inboxes</dt><dd>every inbox</dd>" in asking
    assert "<dt>Sending</dt><dd>asks you before each send</dd>" in asking
