"""A send that waits for a person, through the official SDK client on every transport (issue 23, item 3).

The gateway asks before each send (SEND_POLICY=confirm). Clients without elicitation get a preview and
the confirmation page's link; 2026-07-28 clients with elicitation get `input_required` (URL mode when
declared, else a form); 2025-11-25 clients with URL elicitation get -32042. Nothing is sent without
the person, and nothing is sent twice.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import httpx
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequestURLParams, ElicitResult

from tests.clients import connect, connect_asking, text_of
from tests.conftest import LiveServer
from tests.tools.person import decide_on_page, link_in
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

SEND: Final = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": "Your order is ready."}
HANDSHAKE_TRANSPORTS: Final = [
    pytest.param(("streamable", "legacy"), id="streamable-http-2025-06-18-style"),
    pytest.param(("/sse", "legacy"), id="legacy-sse"),
]
ELICITATION_CAPABILITIES: Final = "io.modelcontextprotocol/clientCapabilities"


class Person:
    """An elicitation callback standing for the person: URL requests are answered on the page."""

    def __init__(
        self, action: Literal["accept", "decline", "cancel"] = "accept", on_page: str | None = "send"
    ) -> None:
        self.action = action
        self.on_page = on_page
        self.requests: list[Any] = []

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.requests.append(params)
        if isinstance(params, ElicitRequestURLParams) and self.action == "accept" and self.on_page:
            answer = await decide_on_page(params.url, self.on_page)
            assert answer.status_code == 200, answer.text
        return ElicitResult(action=self.action)


def sent(sandbox: SandboxState) -> list[str]:
    return [message["text"] for message in sandbox.sent_messages]


@pytest.mark.parametrize("transport", HANDSHAKE_TRANSPORTS)
async def test_a_held_send_answers_with_a_preview_and_the_page_link(
    held_server: LiveServer, sandbox: SandboxState, transport: tuple[str, str]
) -> None:
    async with connect(held_server, *transport, api_key=SANDBOX_API_KEY) as client:
        result = await client.call_tool("send-message", SEND)
    text = text_of(result)
    assert result.is_error is True
    assert text.startswith("Not sent yet: sending needs a person's confirmation")
    assert "Your order is ready." in text
    assert link_in(text).startswith(f"{held_server.url}/confirm/")
    assert sent(sandbox) == []


async def test_a_held_send_is_sent_once_the_person_confirms_on_the_page(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    async with connect(held_server, "streamable", "legacy", api_key=SANDBOX_API_KEY) as client:
        result = await client.call_tool("send-message", SEND)
    answer = await decide_on_page(link_in(text_of(result)))
    assert answer.status_code == 200
    assert sent(sandbox) == ["Your order is ready."]


async def test_a_2026_client_without_elicitation_gets_the_preview(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    async with connect(held_server, "streamable", "2026-07-28", api_key=SANDBOX_API_KEY) as client:
        result = await client.call_tool("send-message", SEND)
    assert result.is_error is True
    assert link_in(text_of(result)).startswith(f"{held_server.url}/confirm/")
    assert sent(sandbox) == []


async def test_a_2026_url_elicitation_sends_once_the_person_confirms_on_the_page(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    person = Person()
    async with connect_asking(held_server, "streamable", "2026-07-28", person, SANDBOX_API_KEY) as client:
        result = await client.call_tool("send-message", SEND)
    assert result.is_error is False, text_of(result)
    assert result.structured_content is not None
    assert result.structured_content["text"] == "Your order is ready."
    assert [request.mode for request in person.requests] == ["url"]
    assert sent(sandbox) == ["Your order is ready."]


@pytest.mark.parametrize(("action", "word"), [("decline", "declined"), ("cancel", "cancelled")])
async def test_a_2026_elicitation_declined_or_cancelled_sends_nothing(
    held_server: LiveServer, sandbox: SandboxState, action: Literal["decline", "cancel"], word: str
) -> None:
    person = Person(action=action)
    async with connect_asking(held_server, "streamable", "2026-07-28", person, SANDBOX_API_KEY) as client:
        result = await client.call_tool("send-message", SEND)
    assert result.is_error is True
    assert text_of(result) == f"The person {word} this send. Nothing was sent."
    assert sent(sandbox) == []


@pytest.mark.parametrize("transport", HANDSHAKE_TRANSPORTS)
async def test_a_2025_11_25_url_client_gets_32042_then_its_retry_reports_the_send(
    held_server: LiveServer, sandbox: SandboxState, transport: tuple[str, str]
) -> None:
    """-32042 needs no back-channel. Pushed elicitation is left out on the handshake revisions (its
    answer could reach another machine than the waiting call), so the callback is never asked."""
    person = Person()
    async with connect_asking(held_server, *transport, person, SANDBOX_API_KEY) as client:
        with pytest.raises(MCPError) as required:
            await client.call_tool("send-message", SEND)
        assert required.value.code == -32042
        (elicitation,) = required.value.data["elicitations"]
        assert elicitation["mode"] == "url"
        assert (await decide_on_page(elicitation["url"])).status_code == 200
        retried = await client.call_tool("send-message", SEND)
    assert retried.is_error is False, text_of(retried)
    assert retried.structured_content is not None
    assert retried.structured_content["text"] == "Your order is ready."
    assert person.requests == []
    assert sent(sandbox) == ["Your order is ready."]


async def test_a_2025_11_25_send_asked_again_after_its_retry_is_held_anew(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    async with connect_asking(held_server, "/sse", "legacy", Person(), SANDBOX_API_KEY) as client:
        with pytest.raises(MCPError) as first:
            await client.call_tool("send-message", SEND)
        await decide_on_page(first.value.data["elicitations"][0]["url"])
        await client.call_tool("send-message", SEND)
        with pytest.raises(MCPError) as again:
            await client.call_tool("send-message", SEND)
    first_id = first.value.data["elicitations"][0]["elicitationId"]
    assert again.value.data["elicitations"][0]["elicitationId"] != first_id
    assert sent(sandbox) == ["Your order is ready."]


async def test_a_2025_11_25_url_client_retrying_before_the_person_acts_is_asked_again(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    async with connect_asking(held_server, "/sse", "legacy", Person(), SANDBOX_API_KEY) as client:
        with pytest.raises(MCPError) as first:
            await client.call_tool("send-message", SEND)
        with pytest.raises(MCPError) as second:
            await client.call_tool("send-message", SEND)
    first_id = first.value.data["elicitations"][0]["elicitationId"]
    assert second.value.data["elicitations"][0]["elicitationId"] == first_id
    assert sent(sandbox) == []


# The 2026-07-28 form path, over raw JSON-RPC: the SDK client always declares URL mode as well.


async def modern_call(
    server: LiveServer, arguments: dict[str, Any], capabilities: dict[str, Any], **extra: Any
) -> httpx.Response:
    params = {
        "name": "send-message",
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            ELICITATION_CAPABILITIES: capabilities,
        },
        **extra,
    }
    headers = server.headers(
        SANDBOX_API_KEY,
        **{"mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "send-message"},
    )
    body = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            f"{server.url}/mcp", json=body, headers=headers | {"accept": "application/json"}
        )


FORM_ONLY: Final[dict[str, Any]] = {"elicitation": {"form": {}}}
YES: Final[dict[str, Any]] = {"confirm": {"action": "accept", "content": {"confirm": True}}}


async def held_by_form(server: LiveServer) -> str:
    """A held send asked with a form; its requestState."""
    answer = (await modern_call(server, SEND, FORM_ONLY)).json()["result"]
    assert answer["resultType"] == "input_required"
    assert answer["inputRequests"]["confirm"]["params"]["mode"] == "form"
    state: str = answer["requestState"]
    return state


async def test_a_2026_form_answered_yes_sends_once(held_server: LiveServer, sandbox: SandboxState) -> None:
    state = await held_by_form(held_server)
    answer = await modern_call(held_server, SEND, FORM_ONLY, inputResponses=YES, requestState=state)
    assert answer.json()["result"]["isError"] is False
    assert sent(sandbox) == ["Your order is ready."]


async def test_a_2026_form_answer_replayed_sends_nothing_again(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    state = await held_by_form(held_server)
    await modern_call(held_server, SEND, FORM_ONLY, inputResponses=YES, requestState=state)
    replay = (await modern_call(held_server, SEND, FORM_ONLY, inputResponses=YES, requestState=state)).json()
    assert replay["result"]["isError"] is True
    assert replay["result"]["content"][0]["text"] == (
        "This send was already confirmed and sent. It was not sent again."
    )
    assert sent(sandbox) == ["Your order is ready."]


async def test_a_2026_state_for_other_arguments_is_refused(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    state = await held_by_form(held_server)
    other = SEND | {"content": "Send me your password."}
    answer = await modern_call(held_server, other, FORM_ONLY, inputResponses=YES, requestState=state)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": -32602,
        "message": "Invalid requestState: This confirmation was made for a different send. Nothing was sent.",
    }
    assert sent(sandbox) == []


async def test_a_forged_2026_state_is_refused(held_server: LiveServer, sandbox: SandboxState) -> None:
    answer = await modern_call(held_server, SEND, FORM_ONLY, inputResponses=YES, requestState="forged.state")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == -32602
    assert answer.json()["error"]["message"] == (
        "Invalid requestState: This confirmation is not valid: it was altered or made by someone else. "
        "Nothing was sent."
    )
    assert sent(sandbox) == []


async def test_a_2026_url_answer_cannot_confirm_by_claiming_a_form(
    held_server: LiveServer, sandbox: SandboxState
) -> None:
    """After a URL request only the page confirms: a client sending a form's yes is asked again."""
    asked = (await modern_call(held_server, SEND, {"elicitation": {"url": {}}})).json()["result"]
    state = asked["requestState"]
    again = await modern_call(held_server, SEND, FORM_ONLY, inputResponses=YES, requestState=state)
    assert again.json()["result"]["resultType"] == "input_required"
    assert sent(sandbox) == []
