"""Every tool's largest answer fits the size budget clients accept (tools/budget.py), and a shortened
page continues through its cursor with nothing lost or repeated.

Answers are measured as they cross the wire: the `result` of the JSON-RPC response to a raw POST,
both the text copy and `structuredContent`, in UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from copy import deepcopy
from typing import Any

import orjson
import pytest

from tests.clients import connect, text_of
from tests.conftest import LiveServer, free_port, make_settings
from tests.spec_check import SpecCheck
from tests.tools import bulky
from tests.tools.conftest import post_tool_call, serve_gateway
from tests.tools.views.conftest import gateway_call
from tools.budget import RESULT_BUDGET_BYTES
from tools.catalog import TOOL_NAMES
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed

Seed = Callable[[SandboxState], Any]


def answer(server: LiveServer, name: str, arguments: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The size in bytes and the content of the `result` of one tools/call."""
    result: dict[str, Any] = post_tool_call(server, name, arguments)["result"]
    return len(orjson.dumps(result)), result


def structured(result: dict[str, Any]) -> dict[str, Any]:
    assert result["isError"] is False, result["content"][0]["text"][:500]
    content: dict[str, Any] = result["structuredContent"]
    return content


def _nothing(state: SandboxState) -> None:
    """The seeded workspace as it is."""


def _thread(state: SandboxState) -> None:
    bulky.thread(state, bulky.participant(1), 100, tag="T")


def _transcripts(state: SandboxState) -> None:
    bulky.calls_with_transcripts(state, bulky.participant(2), 50, 360)


def _calls(state: SandboxState) -> None:
    bulky.calls_with_transcripts(state, bulky.participant(2), 100, 1)


def _conversations(state: SandboxState) -> None:
    bulky.busy_inbox(state, conversations=100, messages=1)


def _contacts(state: SandboxState) -> None:
    bulky.many_contacts(state, 50)


def _workspace(state: SandboxState) -> None:
    bulky.big_workspace(state, numbers=100, users=50)


def _crowded(state: SandboxState) -> None:
    bulky.big_workspace(state, numbers=1, users=400)


def _failing(state: SandboxState) -> None:
    state.faults.failing_recipients.update({bulky.participant(n): 400 for n in range(100)})


def _voicemail(state: SandboxState) -> None:
    state.voicemails[seed.CALL_VOICEMAIL_ID]["transcript"] = bulky.long_text(20_000)


def _recordings(state: SandboxState) -> None:
    segment = state.recordings[seed.CALL_TWO_RECORDINGS_ID][0]
    state.recordings[seed.CALL_TWO_RECORDINGS_ID] = [dict(segment, id=f"CRbulky{n}") for n in range(200)]


FULL_CONTACT_ARGS: dict[str, Any] = {
    "firstName": bulky.long_text(200),
    "lastName": bulky.long_text(200),
    "company": bulky.long_text(200),
    "role": bulky.long_text(200),
    "emails": [{"name": bulky.long_text(200), "value": f"{n}@{'e' * 240}.test"} for n in range(20)],
    "phoneNumbers": [{"name": bulky.long_text(200), "value": bulky.participant(n)} for n in range(20)],
    "customFields": [{"key": "account-tier", "value": bulky.long_text(200)}],
    "externalId": "x" * 75,
    "source": "s" * 72,
}
CALL_ID = "ACbulkyCall0000"
SEND = {"from": seed.MAIN_LINE_ID, "to": seed.JORDAN_NUMBER, "content": bulky.long_text(1600)}
BULK = {**SEND, "to": [bulky.participant(n) for n in range(100)]}
THREAD = {"inbox": seed.MAIN_LINE_ID, "participant": bulky.participant(1), "maxResults": 100}
CALLS = {"inbox": seed.MAIN_LINE_ID, "participant": bulky.participant(2)}

# Each tool driven at its largest: (tool, seed, arguments).
LARGEST: list[tuple[str, Seed, dict[str, Any]]] = [
    ("send-message", _nothing, SEND),
    ("bulk-messages", _failing, BULK),
    ("fetch-messages", _thread, THREAD),
    ("fetch-call-transcripts", _transcripts, {**CALLS, "maxResults": 50}),
    ("create-contact", _nothing, FULL_CONTACT_ARGS),
    ("list-phone-numbers", _workspace, {}),
    ("list-conversations", _conversations, {"maxResults": 100}),
    ("get-message", _thread, {"id": "ACbulkyT0000"}),
    ("get-call-summary", _transcripts, {"callId": CALL_ID}),
    ("list-contacts", _contacts, {"maxResults": 50}),
    ("get-contact", _contacts, {"id": "6740eeee0000000000000000"}),
    ("update-contact", _contacts, {"id": "6740eeee0000000000000000", "company": bulky.long_text(200)}),
    ("delete-contact", _contacts, {"id": "6740eeee0000000000000000"}),
    ("list-contact-custom-fields", _nothing, {}),
    ("list-calls", _calls, {**CALLS, "maxResults": 100}),
    ("get-call", _transcripts, {"callId": CALL_ID}),
    ("get-call-recordings", _recordings, {"callId": seed.CALL_TWO_RECORDINGS_ID}),
    ("get-voicemail", _voicemail, {"callId": seed.CALL_VOICEMAIL_ID}),
    ("list-users", _workspace, {"maxResults": 50}),
    ("get-user", _workspace, {"userId": "USbulky0000"}),
    ("get-phone-number", _crowded, {"inbox": "PNbulky0000"}),
    ("read-thread", _thread, THREAD),
]  # fmt: skip


# Tools whose answer needs a send held for a person first: (tool, seed, the held send's tool and arguments).
HELD_LARGEST: list[tuple[str, Seed, str, dict[str, Any]]] = [
    ("confirm-send", _failing, "bulk-messages", BULK),
]


# Tools driven by a test of their own below, after the call that makes their input.
FOLLOW_UPS: tuple[str, ...] = ("undo-contact-change",)


def test_every_tool_is_driven_at_its_largest() -> None:
    driven = [name for name, _, _ in LARGEST] + [name for name, _, _, _ in HELD_LARGEST] + [*FOLLOW_UPS]
    assert sorted(driven) == sorted(TOOL_NAMES)


def test_largest_undo_answer_fits_the_budget(tool_server: LiveServer, sandbox: SandboxState) -> None:
    """Undoing a delete creates the whole contact again and answers it: measured on the fullest one."""
    created = structured(answer(tool_server, "create-contact", FULL_CONTACT_ARGS)[1])
    deleted = structured(answer(tool_server, "delete-contact", {"id": created["id"]})[1])
    size, result = answer(tool_server, "undo-contact-change", {"undoToken": deleted["undoToken"]})
    structured(result)
    assert size <= RESULT_BUDGET_BYTES


@pytest.fixture
def seeded_numbers_cached(tool_server: LiveServer, sandbox: SandboxState) -> Iterator[SandboxState]:
    """The sandbox, whose seeded numbers are back in the gateway's inbox cache (60 s, per key) after
    the test, so the tests after it see the workspace they expect."""
    yield sandbox
    if len(sandbox.phone_numbers) != len(seed.PHONE_NUMBERS):
        sandbox.phone_numbers = deepcopy(list(seed.PHONE_NUMBERS))
        structured(post_tool_call(tool_server, "list-phone-numbers", {})["result"])


@pytest.mark.parametrize(("name", "seeding", "arguments"), [pytest.param(*row, id=row[0]) for row in LARGEST])
def test_largest_answer_fits_the_budget(
    tool_server: LiveServer,
    seeded_numbers_cached: SandboxState,
    name: str,
    seeding: Seed,
    arguments: dict[str, Any],
) -> None:
    sandbox = seeded_numbers_cached
    seeding(sandbox)
    size, result = answer(tool_server, name, arguments)
    structured(result)
    assert size <= RESULT_BUDGET_BYTES


@pytest.fixture(scope="module")
def held_to_anyone(spec: SpecCheck) -> Iterator[LiveServer]:
    """Every send waits for a person; any number may be texted, so the largest send can be held."""
    settings = make_settings(free_port(), sandbox=True, send_policy="confirm", send_new_numbers=True)
    yield from serve_gateway(settings, spec)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "seeding", "held_tool", "arguments"), [pytest.param(*row, id=row[0]) for row in HELD_LARGEST]
)
async def test_largest_confirmation_answer_fits_the_budget(
    held_to_anyone: LiveServer,
    sandbox: SandboxState,
    name: str,
    seeding: Seed,
    held_tool: str,
    arguments: dict[str, Any],
) -> None:
    """The view's Send answers the held send's whole outcome: at its largest, still within budget."""
    seeding(sandbox)
    held = await gateway_call(held_to_anyone, held_tool, arguments, declares_apps=True)
    token = held["_meta"]["openphone/confirmation"]["token"]
    result = await gateway_call(held_to_anyone, name, {"token": token, "decision": "send"})
    assert structured(result)["status"] == "sent"
    assert len(orjson.dumps(result)) <= RESULT_BUDGET_BYTES


# Shortened pages continue exactly -------------------------------------------------------------------


def pages(server: LiveServer, name: str, arguments: dict[str, Any], items: str) -> list[dict[str, Any]]:
    """Every page of a paged tool, following nextPageToken to the end."""
    found, token = [], None
    while True:
        _, result = answer(server, name, {**arguments, **({"pageToken": token} if token else {})})
        page = structured(result)
        found.append(page)
        token = page["nextPageToken"]
        if token is None:
            return found


def test_shortened_thread_pages_on_with_no_message_lost_or_repeated(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    ids = bulky.thread(sandbox, bulky.participant(1), 100, tag="T")
    found = pages(tool_server, "fetch-messages", THREAD, "messages")
    assert [message["id"] for page in found for message in page["messages"]] == ids
    first = found[0]
    shown = len(first["messages"])
    assert shown < 100
    assert first["trimmed"] == (
        "Shortened to fit the answer size clients accept (100,000 characters): "
        f"{shown} of the 100 messages asked for; nextPageToken continues right after the last one shown."
    )


def test_shortened_transcript_page_pages_on_with_no_call_lost_or_repeated(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    ids = bulky.calls_with_transcripts(sandbox, bulky.participant(2), 20, 40)
    found = pages(tool_server, "fetch-call-transcripts", {**CALLS, "maxResults": 20}, "calls")
    assert [call["call"]["id"] for page in found for call in page["calls"]] == ids
    assert len(found) > 1
    assert all(len(call["dialogue"]) == 40 for page in found for call in page["calls"])


def test_shortened_inbox_read_names_the_created_before_that_reads_on(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    bulky.busy_inbox(sandbox)
    inbox = {"inbox": seed.MAIN_LINE_ID, "maxResults": 100}
    read: list[str] = []
    answers = 0
    before: dict[str, str] = {}
    while len(read) < 100:
        page = structured(answer(tool_server, "fetch-messages", {**inbox, **before})[1])
        oldest = page["messages"][-1]["createdAt"]
        assert f"createdBefore={oldest};" in page["trimmed"]
        read += [message["id"] for message in page["messages"]]
        before = {"createdBefore": oldest}
        answers += 1
    newest = sorted(
        (m for m in sandbox.messages.values() if m["id"].startswith("ACbulkyI")),
        key=lambda m: m["createdAt"],
        reverse=True,
    )
    assert read[:100] == [m["id"] for m in newest[:100]]
    assert answers > 1


def test_long_transcript_reads_on_with_dialogue_from(tool_server: LiveServer, sandbox: SandboxState) -> None:
    bulky.calls_with_transcripts(sandbox, bulky.participant(2), 1, 900)
    lines: list[dict[str, Any]] = []
    answers = 0
    while len(lines) < 900:
        detail = structured(
            answer(tool_server, "get-call", {"callId": CALL_ID, "dialogueFrom": len(lines)})[1]
        )
        shown = detail["transcript"]["dialogue"]
        assert shown
        lines += shown
        answers += 1
    assert lines == sandbox.transcripts[CALL_ID]["dialogue"]
    assert answers > 1


def test_one_transcript_too_long_for_a_page_is_shortened_with_its_cursor(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    ids = bulky.calls_with_transcripts(sandbox, bulky.participant(2), 3, 900)
    page = structured(answer(tool_server, "fetch-call-transcripts", {**CALLS, "maxResults": 3})[1])
    [call] = page["calls"]
    shown = len(call["dialogue"])
    assert call["call"]["id"] == ids[0]
    assert page["trimmed"] == (
        "Shortened to fit the answer size clients accept (100,000 characters): the transcript of call "
        f"{ids[0]} to lines 1-{shown} of 900; get-call with callId={ids[0]} and dialogueFrom={shown} reads "
        "on; nextPageToken continues with the next call."
    )


@pytest.mark.anyio
async def test_large_fetch_messages_reaches_the_sdk_client_within_the_budget(
    tool_server: LiveServer, sandbox: SandboxState, transport: tuple[str, str]
) -> None:
    """The official client gets a whole, parseable answer under the budget, saying it was shortened."""
    bulky.thread(sandbox, bulky.participant(1), 100, tag="T")
    async with connect(tool_server, *transport, api_key=SANDBOX_API_KEY) as client:
        result = await client.call_tool("fetch-messages", THREAD)
    assert result.is_error is False
    wire = result.model_dump(
        by_alias=True, exclude_none=True, include={"content", "structured_content", "is_error"}
    )
    assert len(orjson.dumps(wire)) <= RESULT_BUDGET_BYTES
    assert orjson.loads(text_of(result)) == result.structured_content
    assert result.structured_content is not None
    assert result.structured_content["trimmed"] is not None
