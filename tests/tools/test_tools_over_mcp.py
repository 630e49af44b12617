"""Every OpenPhone tool through `/mcp` and legacy SSE, with the official SDK client and the sandbox key."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from tests.clients import connect, text_of
from tests.conftest import LiveServer
from tests.spec_check import SpecCheck
from tools.catalog import CHATGPT_TOOLS, TOOL_NAMES
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed
from tools.scopes import SCOPES

pytestmark = pytest.mark.anyio


async def call(
    server: LiveServer, transport: tuple[str, str], name: str, arguments: dict[str, Any], **headers: str
) -> CallToolResult:
    async with connect(server, *transport, api_key=SANDBOX_API_KEY, **headers) as client:
        return await client.call_tool(name, arguments)


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured result of a successful call."""
    assert result.is_error is False, text_of(result)
    structured: dict[str, Any] | None = result.structured_content
    assert structured is not None
    return structured


def failed(result: CallToolResult) -> str:
    """The message of a failed call."""
    assert result.is_error is True
    assert result.structured_content is None
    return text_of(result)


# tools/list -----------------------------------------------------------------------------------------


async def test_tools_list_offers_every_tool_with_scope_and_status_texts(
    tool_server: LiveServer, transport: tuple[str, str]
) -> None:
    async with connect(tool_server, *transport, api_key=SANDBOX_API_KEY) as client:
        tools = (await client.list_tools()).tools
    assert tuple(tool.name for tool in tools) == TOOL_NAMES
    for tool in tools:
        assert tool.title
        assert tool.description
        assert tool.output_schema is not None
        assert tool.meta is not None
        scheme = tool.meta["securitySchemes"][0]
        assert scheme["type"] == "oauth2"
        assert scheme["scopes"][0] in SCOPES
        assert tool.meta["openai/toolInvocation/invoking"].endswith("…")
    delete = next(tool for tool in tools if tool.name == "delete-contact")
    assert delete.annotations is not None
    assert delete.annotations.destructive_hint is True


async def test_chatgpt_sees_its_subset_and_cannot_call_the_rest(tool_server: LiveServer) -> None:
    chatgpt = {"user-agent": "openai-mcp/1.0.0 (ChatGPT)"}
    async with connect(tool_server, "streamable", "legacy", api_key=SANDBOX_API_KEY, **chatgpt) as client:
        tools = (await client.list_tools()).tools
        with pytest.raises(MCPError) as caught:
            await client.call_tool("delete-contact", {"id": seed.CONTACT_JORDAN_ID})
    # Plus the app-only helpers its views call, which ChatGPT hides from its model (`openai/visibility`).
    assert {tool.name for tool in tools} == {*CHATGPT_TOOLS, "read-thread", "confirm-send"}
    assert caught.value.error.message == "Unknown tool: delete-contact"


# phone numbers and conversations --------------------------------------------------------------------


async def test_list_phone_numbers(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    numbers = ok(await call(tool_server, transport, "list-phone-numbers", {}))["phoneNumbers"]
    assert [(number["id"], number["number"]) for number in numbers] == [
        (seed.MAIN_LINE_ID, seed.MAIN_LINE_NUMBER),
        (seed.SUPPORT_LINE_ID, seed.SUPPORT_LINE_NUMBER),
    ]


async def test_list_conversations_of_one_inbox_newest_first(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    result = ok(
        await call(tool_server, transport, "list-conversations", {"inboxes": [seed.SUPPORT_LINE_NUMBER]})
    )
    assert [conversation["id"] for conversation in result["conversations"]] == [
        seed.CONVERSATION_CHARLIE_ID,
        seed.CONVERSATION_DELTA_ID,
    ]
    assert result["nextPageToken"] is None


# send-message ---------------------------------------------------------------------------------------


async def test_send_message_normalises_numbers_and_sends_once(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {"from": seed.MAIN_LINE_NUMBER, "to": "(415) 555-0123", "content": "Running 5 min late"}
    message = ok(await call(tool_server, transport, "send-message", arguments))
    assert message["to"] == [seed.JORDAN_NUMBER]
    assert message["text"] == "Running 5 min late"
    assert message["id"].startswith("AC")
    assert [(sent["id"], sent["to"]) for sent in sandbox.sent_messages] == [
        (message["id"], [seed.JORDAN_NUMBER])
    ]


async def test_send_message_accepts_an_inbox_id(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {
        "from": seed.SUPPORT_LINE_ID,
        "to": seed.MARCUS_NUMBER,
        "content": "Ticket closed",
        "setInboxStatus": "done",
    }
    message = ok(await call(tool_server, transport, "send-message", arguments))
    assert message["phoneNumberId"] == seed.SUPPORT_LINE_ID


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"to": "+14155550123", "content": "hi"}, "from: Field required (missing)"),
        (
            {"from": "+14155550100", "to": "+14155550123", "content": "   "},
            "content: Value error, must contain a non-whitespace character",
        ),
        (
            {"from": "+14155550100", "to": "+14155550123", "content": "x" * 1601},
            "content: String should have at most 1600 characters",
        ),
        (
            {"from": "+14155550100", "to": "555-01", "content": "hi"},
            "to: Value error, is not a valid phone number",
        ),
        (
            {"from": "+14155550100", "to": "+14155550123", "content": "hi", "cc": "x"},
            "cc: Extra inputs are not permitted",
        ),
    ],
    ids=["missing-from", "blank", "too-long", "bad-number", "unknown-field"],
)
async def test_send_message_refuses_bad_arguments_before_calling_openphone(
    tool_server: LiveServer, sandbox: SandboxState, arguments: dict[str, Any], expected: str
) -> None:
    message = failed(await call(tool_server, ("streamable", "legacy"), "send-message", arguments))
    assert message.startswith("Invalid arguments: ")
    assert expected in message
    assert sandbox.requests == []


async def test_send_message_from_a_number_outside_the_workspace_is_refused(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {"from": "+12025550123", "to": seed.JORDAN_NUMBER, "content": "hi"}
    message = failed(await call(tool_server, transport, "send-message", arguments))
    assert message.startswith("OpenPhone ")
    assert sandbox.sent_messages == []


async def test_a_bad_api_key_is_reported_as_such(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    async with connect(tool_server, *transport, api_key="op-not-the-demo-key") as client:
        result = await client.call_tool("list-phone-numbers", {})
    message = failed(result)
    assert message.startswith("OpenPhone rejected the API key.")
    assert "op-not-the-demo-key" not in message


# get-message and fetch-messages ---------------------------------------------------------------------


async def test_get_message_and_a_missing_one(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    message = ok(await call(tool_server, transport, "get-message", {"id": "ACsandboxMsgAlpha01"}))
    assert message["id"] == "ACsandboxMsgAlpha01"
    missing = failed(await call(tool_server, transport, "get-message", {"id": "ACnothing"}))
    assert missing.startswith("OpenPhone found nothing with that id")


async def test_fetch_messages_pages_through_one_thread_newest_first(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    seen: list[str] = []
    token: str | None = None
    for _ in range(3):
        arguments = {"inbox": seed.MAIN_LINE_NUMBER, "participant": seed.JORDAN_NUMBER, "maxResults": 10}
        if token:
            arguments["pageToken"] = token
        page = ok(await call(tool_server, transport, "fetch-messages", arguments))
        stamps = [message["createdAt"] for message in page["messages"]]
        assert stamps == sorted(stamps, reverse=True)
        seen += [message["id"] for message in page["messages"]]
        token = page["nextPageToken"]
    assert token is None
    assert len(seen) == len(set(seen)) == 25


async def test_fetch_messages_without_participant_merges_recent_conversations(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    result = ok(
        await call(tool_server, transport, "fetch-messages", {"inbox": seed.MAIN_LINE_ID, "maxResults": 40})
    )
    assert result["conversationsRead"] == 3
    stamps = [message["createdAt"] for message in result["messages"]]
    assert stamps == sorted(stamps, reverse=True)
    others = {number for message in result["messages"] for number in [message["from"], *message["to"]]}
    assert {seed.JORDAN_NUMBER, seed.PRIYA_NUMBER, seed.UNKNOWN_CALLER_NUMBER} <= others
    assert len(result["messages"]) == 25 + 4 + 3


async def test_fetch_messages_names_the_workspace_numbers_for_an_unknown_inbox(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    message = failed(await call(tool_server, transport, "fetch-messages", {"inbox": "+12025550123"}))
    assert message == (
        "+12025550123 is not one of this workspace's OpenPhone numbers. Its numbers are: "
        f"{seed.MAIN_LINE_NUMBER} ({seed.MAIN_LINE_ID}), {seed.SUPPORT_LINE_NUMBER} ({seed.SUPPORT_LINE_ID})."
    )


# calls ----------------------------------------------------------------------------------------------


async def transcripts(
    server: LiveServer, transport: tuple[str, str], inbox: str, participant: str
) -> dict[str, str]:
    result = ok(
        await call(server, transport, "fetch-call-transcripts", {"inbox": inbox, "participant": participant})
    )
    return {entry["call"]["id"]: entry["availability"] for entry in result["calls"]}


async def test_fetch_call_transcripts_says_why_a_call_has_none(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    assert await transcripts(tool_server, transport, seed.MAIN_LINE_NUMBER, seed.JORDAN_NUMBER) == {
        seed.CALL_TRANSCRIBED_ID: "completed",
        seed.CALL_NOT_TRANSCRIBED_ID: "not-answered",
    }
    assert await transcripts(tool_server, transport, seed.SUPPORT_LINE_ID, seed.MARCUS_NUMBER) == {
        seed.CALL_PROCESSING_ID: "processing",
        seed.CALL_FAILED_ID: "failed",
    }
    assert await transcripts(tool_server, transport, seed.SUPPORT_LINE_ID, seed.ELENA_NUMBER) == {
        seed.CALL_PLAN_INELIGIBLE_ID: "not-on-plan"
    }
    assert await transcripts(tool_server, transport, seed.MAIN_LINE_ID, seed.UNKNOWN_CALLER_NUMBER) == {
        seed.CALL_UNANSWERED_ID: "not-answered"
    }


async def test_a_completed_transcript_carries_the_dialogue(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {"inbox": seed.MAIN_LINE_ID, "participant": seed.JORDAN_NUMBER}
    result = ok(await call(tool_server, transport, "fetch-call-transcripts", arguments))
    completed = next(entry for entry in result["calls"] if entry["availability"] == "completed")
    assert completed["dialogue"]
    assert {line["identifier"] for line in completed["dialogue"]} >= {seed.JORDAN_NUMBER}


@pytest.mark.parametrize(
    ("call_id", "availability"),
    [
        (seed.CALL_WITH_JOBS_ID, "completed"),
        (seed.CALL_PROCESSING_ID, "processing"),
        (seed.CALL_FAILED_ID, "failed"),
        (seed.CALL_PLAN_INELIGIBLE_ID, "not-on-plan"),
    ],
)
async def test_get_call_summary(
    tool_server: LiveServer, sandbox: SandboxState, call_id: str, availability: str
) -> None:
    result = ok(await call(tool_server, ("streamable", "legacy"), "get-call-summary", {"callId": call_id}))
    assert result["availability"] == availability
    assert (result["summary"] is not None) == (availability != "not-on-plan")
    if availability == "completed":
        assert result["summary"]["summary"]


# contacts -------------------------------------------------------------------------------------------


async def test_create_contact_with_every_field(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {
        "firstName": "Dana",
        "lastName": "Wu",
        "company": "Wu Bakery",
        "role": "Owner",
        "emails": [{"value": "dana@wubakery.example"}],
        "phoneNumbers": [{"name": "shop", "value": "212 555 0147"}],
        "customFields": [{"key": "inbound-lead", "value": True}],
        "externalId": "crm-2001",
        "source": "mcp",
    }
    contact = ok(await call(tool_server, transport, "create-contact", arguments))
    stored = sandbox.contacts[contact["id"]]
    assert stored["defaultFields"]["firstName"] == "Dana"
    assert stored["defaultFields"]["phoneNumbers"][0]["value"] == seed.PRIYA_NUMBER
    assert stored["externalId"] == "crm-2001"
    assert contact["defaultFields"]["company"] == "Wu Bakery"


async def test_create_contact_with_an_unknown_custom_field_says_which(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {"firstName": "Dana", "customFields": [{"key": "shoe-size", "value": "9"}]}
    message = failed(await call(tool_server, transport, "create-contact", arguments))
    assert message.startswith("OpenPhone rejected the request as invalid")
    assert "customFields/0/key: Did not match any known contact custom field" in message


async def test_list_get_update_and_delete_a_contact(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    listed = ok(await call(tool_server, transport, "list-contacts", {"externalIds": ["crm-1002"]}))
    assert [contact["id"] for contact in listed["contacts"]] == [seed.CONTACT_PRIYA_ID]
    updated = ok(
        await call(
            tool_server, transport, "update-contact", {"id": seed.CONTACT_PRIYA_ID, "company": "Shah & Co"}
        )
    )
    assert updated["defaultFields"]["company"] == "Shah & Co"
    fetched = ok(await call(tool_server, transport, "get-contact", {"id": seed.CONTACT_PRIYA_ID}))
    assert fetched["defaultFields"]["company"] == "Shah & Co"
    deleted = ok(await call(tool_server, transport, "delete-contact", {"id": seed.CONTACT_PRIYA_ID}))
    assert (deleted["id"], deleted["deleted"], sorted(deleted)) == (
        seed.CONTACT_PRIYA_ID,
        True,
        ["auditId", "deleted", "id", "undoExpiresAt", "undoToken"],
    )
    assert seed.CONTACT_PRIYA_ID not in sandbox.contacts
    gone = failed(await call(tool_server, transport, "get-contact", {"id": seed.CONTACT_PRIYA_ID}))
    assert gone.startswith("OpenPhone found nothing with that id")


async def test_update_contact_needs_something_to_change(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    message = failed(
        await call(tool_server, ("streamable", "legacy"), "update-contact", {"id": seed.CONTACT_PRIYA_ID})
    )
    assert (
        message
        == "Invalid arguments: arguments: Value error, give at least one field to change (value_error)"
    )


async def test_list_contacts_pages(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    first = ok(await call(tool_server, transport, "list-contacts", {"maxResults": 3}))
    assert len(first["contacts"]) == 3
    assert first["nextPageToken"]
    rest = ok(
        await call(
            tool_server, transport, "list-contacts", {"maxResults": 3, "pageToken": first["nextPageToken"]}
        )
    )
    assert len(rest["contacts"]) == 1
    assert rest["nextPageToken"] is None


async def test_list_contact_custom_fields(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    fields = ok(await call(tool_server, transport, "list-contact-custom-fields", {}))["customFields"]
    assert {field["key"] for field in fields} == {
        "inbound-lead",
        "lifecycle-stage",
        "deal-size",
        "renewal-date",
        "account-tier",
    }


async def test_the_spec_check_sees_every_exchange(
    tool_server: LiveServer, spec: SpecCheck, sandbox: SandboxState
) -> None:
    before = spec.checked
    ok(await call(tool_server, ("streamable", "legacy"), "fetch-messages", {"inbox": seed.MAIN_LINE_ID}))
    assert spec.checked - before == len(sandbox.requests) == 4
