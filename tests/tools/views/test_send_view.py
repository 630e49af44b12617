"""The send view in the MCP Apps host harness, framed with `sandbox="allow-scripts"` alone (issue 23).

The gateway asks before each send; the host declares MCP Apps, so the held send's result carries the
view's token in `_meta`, and only there. Send sends exactly one message (the sandbox's own record),
Cancel none.
"""

from __future__ import annotations

from typing import Final

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import OTHER_API_KEY, LiveServer
from tests.tools.views.conftest import HostedView, OpenView, gateway_call
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

SEND: Final = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": "The van is on its way."}
ONLY_SCRIPTS: Final = "allow-scripts"


async def open_held(open_view: OpenView, server: LiveServer, theme: str = "light") -> HostedView:
    return await open_view(
        "send",
        "send-message",
        SEND,
        theme=theme,
        server=server,
        declares_apps=True,
    )


def sent(sandbox: SandboxState) -> list[str]:
    return [message["text"] for message in sandbox.sent_messages]


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_the_view_shows_sender_recipients_and_text(
    open_view: OpenView, held_server: LiveServer, sandbox: SandboxState, theme: str
) -> None:
    hosted = await open_held(open_view, held_server, theme)
    await expect(hosted.frame.locator("h1")).to_have_text("Send this text?")
    await expect(hosted.frame.locator("dd.sender")).to_have_text(seed.MAIN_LINE_NUMBER)
    await expect(hosted.frame.locator("ul.recipients li")).to_have_text([seed.JORDAN_NUMBER])
    await expect(hosted.frame.locator("p.text")).to_have_text("The van is on its way.")
    assert await hosted.watched.page.get_attribute("#view", "sandbox") == ONLY_SCRIPTS
    await hosted.wait_until_sized()
    await hosted.screenshot(f"send-{theme}")
    assert sent(sandbox) == []
    assert hosted.watched.console_errors == []
    assert hosted.watched.csp_violations == []


async def test_send_in_the_view_sends_exactly_one_message(
    open_view: OpenView, held_server: LiveServer, sandbox: SandboxState
) -> None:
    hosted = await open_held(open_view, held_server)
    await hosted.frame.get_by_role("button", name="Send").click()
    await expect(hosted.frame.locator(".outcome")).to_have_text("Sent.")
    assert sent(sandbox) == ["The van is on its way."]
    assert sandbox.requests.count(("POST", "/v1/messages")) == 1
    assert [call["params"]["name"] for call in await hosted.requests("tools/call")] == ["confirm-send"]


async def test_cancel_in_the_view_sends_nothing(
    open_view: OpenView, held_server: LiveServer, sandbox: SandboxState
) -> None:
    hosted = await open_held(open_view, held_server)
    await hosted.frame.get_by_role("button", name="Cancel").click()
    await expect(hosted.frame.locator(".outcome")).to_have_text(
        "The person cancelled this send. Nothing was sent."
    )
    assert sent(sandbox) == []


async def test_the_model_visible_part_of_the_answer_holds_no_token(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    result = await gateway_call(held_server, "send-message", SEND, declares_apps=True)
    token = result["_meta"]["openphone/confirmation"]["token"]
    assert token
    assert "structuredContent" not in result
    assert all(token not in block["text"] for block in result["content"])


async def test_a_host_without_mcp_apps_gets_no_token(held_server: LiveServer, sandbox: SandboxState) -> None:
    result = await gateway_call(held_server, "send-message", SEND)
    assert "_meta" not in result
    assert result["isError"] is True


async def test_a_token_the_model_made_up_sends_nothing(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    await gateway_call(held_server, "send-message", SEND, declares_apps=True)
    result = await gateway_call(held_server, "confirm-send", {"token": "made-up", "decision": "send"})
    assert result["isError"] is True
    assert result["content"][0]["text"] == (
        "This confirmation is not valid: it was altered or made by someone else. Nothing was sent."
    )
    assert sent(sandbox) == []


async def test_a_token_replayed_sends_nothing_again(held_server: LiveServer, sandbox: SandboxState) -> None:
    held = await gateway_call(held_server, "send-message", SEND, declares_apps=True)
    token = held["_meta"]["openphone/confirmation"]["token"]
    first = await gateway_call(held_server, "confirm-send", {"token": token, "decision": "send"})
    second = await gateway_call(held_server, "confirm-send", {"token": token, "decision": "send"})
    assert first["isError"] is False
    assert second["content"][0]["text"] == "This send was already confirmed and sent. It was not sent again."
    assert sent(sandbox) == ["The van is on its way."]
    assert SANDBOX_API_KEY not in str(first)


async def test_a_handshake_client_declaring_mcp_apps_gets_the_token_through_its_session(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    """claude.ai's shape: 2025-11-25 over Streamable HTTP, MCP Apps declared at initialize only."""
    headers = held_server.headers(SANDBOX_API_KEY) | {"accept": "application/json"}
    capabilities = {
        "extensions": {"io.modelcontextprotocol/ui": {"mimeTypes": ["text/html;profile=mcp-app"]}}
    }
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": capabilities,
            "clientInfo": {"name": "host"},
        },
    }
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "send-message", "arguments": SEND},
    }
    async with httpx.AsyncClient(base_url=held_server.url, timeout=10) as http:
        started = await http.post("/mcp", json=initialize, headers=headers)
        session = {"mcp-session-id": started.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        result = (await http.post("/mcp", json=call, headers=headers | session)).json()["result"]
    assert result["_meta"]["openphone/confirmation"]["recipients"] == [seed.JORDAN_NUMBER]
    assert sent(sandbox) == []


async def test_a_token_used_with_another_key_sends_nothing(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    held = await gateway_call(held_server, "send-message", SEND, declares_apps=True)
    token = held["_meta"]["openphone/confirmation"]["token"]
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "confirm-send", "arguments": {"token": token, "decision": "send"}},
    }
    headers = held_server.headers(OTHER_API_KEY) | {"accept": "application/json"}
    async with httpx.AsyncClient(timeout=10) as http:
        result = (await http.post(f"{held_server.url}/mcp", json=call, headers=headers)).json()["result"]
    assert result["content"][0]["text"] == "This confirmation belongs to another sign-in. Nothing was sent."
    assert sent(sandbox) == []


async def test_send_in_the_bulk_view_sends_to_every_recipient_once(
    open_view: OpenView, held_server: LiveServer, sandbox: SandboxState
) -> None:
    bulk = {
        "from": seed.MAIN_LINE_NUMBER,
        "to": [seed.JORDAN_NUMBER, seed.PRIYA_NUMBER],
        "content": "Closed Friday.",
    }
    hosted = await open_view("bulk", "bulk-messages", bulk, server=held_server, declares_apps=True)
    await expect(hosted.frame.locator("ul.recipients li")).to_have_text(
        [seed.JORDAN_NUMBER, seed.PRIYA_NUMBER]
    )
    await hosted.frame.get_by_role("button", name="Send").click()
    await expect(hosted.frame.locator(".outcome")).to_have_text("Sent.")
    assert sent(sandbox) == ["Closed Friday.", "Closed Friday."]
