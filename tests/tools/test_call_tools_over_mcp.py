"""list-calls, get-call, get-call-recordings and get-voicemail through the official SDK client, every
transport, against the sandbox: each seeded state and each error path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.tools.test_tools_over_mcp import call, failed, ok
from tools.sandbox import Fault, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

HTTP = ("streamable", "legacy")
NOT_FOUND = "OpenPhone found nothing with that id"


def gets(sandbox: SandboxState) -> set[str]:
    return {path for method, path in sandbox.requests if method == "GET"}


# list-calls -----------------------------------------------------------------------------------------


async def test_list_calls_newest_first_with_who_answered(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {"inbox": seed.MAIN_LINE_NUMBER, "participant": "(415) 555-0123"}
    result = ok(await call(tool_server, transport, "list-calls", arguments))
    assert [(c["id"], c["status"], c["answeredBy"], c["duration"]) for c in result["calls"]] == [
        (seed.CALL_NOT_TRANSCRIBED_ID, "missed", None, 0),
        (seed.CALL_TRANSCRIBED_ID, "completed", seed.OWNER_USER_ID, 312),
    ]
    assert (result["inboxId"], result["nextPageToken"]) == (seed.MAIN_LINE_ID, None)
    assert result["note"].startswith("A call list does not say whether a call has a recording")
    assert sandbox.requests[-1] == ("GET", "/v1/calls")


async def test_list_calls_pages(tool_server: LiveServer, sandbox: SandboxState) -> None:
    arguments = {"inbox": seed.SUPPORT_LINE_ID, "participant": seed.MARCUS_NUMBER, "maxResults": 1}
    first = ok(await call(tool_server, HTTP, "list-calls", arguments))
    rest = ok(await call(tool_server, HTTP, "list-calls", {**arguments, "pageToken": first["nextPageToken"]}))
    assert [c["id"] for c in first["calls"] + rest["calls"]] == [seed.CALL_PROCESSING_ID, seed.CALL_FAILED_ID]
    assert rest["nextPageToken"] is None


async def test_list_calls_in_a_time_window(tool_server: LiveServer, sandbox: SandboxState) -> None:
    arguments = {
        "inbox": seed.MAIN_LINE_ID,
        "participant": seed.JORDAN_NUMBER,
        "createdAfter": "2026-10-22T00:00:00+02:00",
    }
    result = ok(await call(tool_server, HTTP, "list-calls", arguments))
    assert [c["id"] for c in result["calls"]] == [seed.CALL_NOT_TRANSCRIBED_ID]


async def test_list_calls_of_a_foreign_number_names_the_workspace_numbers(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    arguments = {"inbox": "+12025550123", "participant": seed.JORDAN_NUMBER}
    assert failed(await call(tool_server, transport, "list-calls", arguments)) == (
        "+12025550123 is not one of this workspace's OpenPhone numbers. Its numbers are: "
        f"{seed.MAIN_LINE_NUMBER} ({seed.MAIN_LINE_ID}), {seed.SUPPORT_LINE_NUMBER} ({seed.SUPPORT_LINE_ID})."
    )


async def test_list_calls_of_a_foreign_inbox_id_is_not_found(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    arguments = {"inbox": "PNelsewhere", "participant": seed.JORDAN_NUMBER}
    assert failed(await call(tool_server, HTTP, "list-calls", arguments)).startswith(
        f"{NOT_FOUND}: Phone number not found."
    )


async def test_list_calls_refuses_more_than_100_before_calling_openphone(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    arguments = {"inbox": seed.MAIN_LINE_ID, "participant": seed.JORDAN_NUMBER, "maxResults": 101}
    assert failed(await call(tool_server, HTTP, "list-calls", arguments)) == (
        "Invalid arguments: maxResults: Input should be less than or equal to 100 (less_than_equal)"
    )
    assert sandbox.requests == []


# get-call -------------------------------------------------------------------------------------------


def availability(detail: dict[str, Any]) -> tuple[str, str, str]:
    return (
        detail["summary"]["availability"],
        detail["transcript"]["availability"],
        detail["voicemail"]["availability"],
    )


async def test_get_call_of_an_answered_call_has_summary_and_transcript(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    detail = ok(await call(tool_server, transport, "get-call", {"callId": seed.CALL_TRANSCRIBED_ID}))
    assert availability(detail) == ("completed", "completed", "none")
    assert detail["call"]["callRoute"] == "phone-number"
    assert detail["summary"]["summary"]["nextSteps"] == ["Send Jordan a water-heater quote by Monday."]
    assert {line["identifier"] for line in detail["transcript"]["dialogue"]} == {
        seed.JORDAN_NUMBER,
        seed.MAIN_LINE_NUMBER,
    }
    assert gets(sandbox) == {
        f"/v1/calls/{seed.CALL_TRANSCRIBED_ID}",
        f"/v1/call-summaries/{seed.CALL_TRANSCRIBED_ID}",
        f"/v1/call-transcripts/{seed.CALL_TRANSCRIBED_ID}",
    }


async def test_get_call_of_a_missed_call_reads_only_its_voicemail(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    detail = ok(await call(tool_server, transport, "get-call", {"callId": seed.CALL_VOICEMAIL_ID}))
    assert availability(detail) == ("not-answered", "not-answered", "completed")
    assert detail["voicemail"]["voicemail"] == {
        "id": "VMsandboxAlpha2",
        "status": "completed",
        "duration": 17,
        "transcript": seed.VOICEMAILS[seed.CALL_VOICEMAIL_ID]["transcript"],
        "recordingUrl": "https://recordings.sandbox.invalid/VMsandboxAlpha2.mp3",
    }
    assert gets(sandbox) == {
        f"/v1/calls/{seed.CALL_VOICEMAIL_ID}",
        f"/v1/call-voicemails/{seed.CALL_VOICEMAIL_ID}",
    }


@pytest.mark.parametrize(
    ("call_id", "expected"),
    [
        pytest.param(
            seed.CALL_VOICEMAIL_PROCESSING_ID,
            ("not-answered", "not-answered", "processing"),
            id="vm-processing",
        ),
        pytest.param(seed.CALL_PROCESSING_ID, ("processing", "processing", "none"), id="processing"),
        pytest.param(seed.CALL_FAILED_ID, ("failed", "failed", "none"), id="failed"),
        pytest.param(seed.CALL_PLAN_INELIGIBLE_ID, ("not-on-plan", "not-on-plan", "none"), id="not-on-plan"),
        pytest.param(
            seed.CALL_UNANSWERED_ID, ("not-answered", "not-answered", "none"), id="outgoing-unanswered"
        ),
    ],
)
async def test_get_call_states(
    tool_server: LiveServer, sandbox: SandboxState, call_id: str, expected: tuple[str, str, str]
) -> None:
    assert availability(ok(await call(tool_server, HTTP, "get-call", {"callId": call_id}))) == expected


async def test_one_failing_part_never_fails_the_call(tool_server: LiveServer, sandbox: SandboxState) -> None:
    sandbox.faults.plan("GET", "/v1/call-transcripts/{id}", Fault.malformed())
    detail = ok(await call(tool_server, HTTP, "get-call", {"callId": seed.CALL_TRANSCRIBED_ID}))
    assert availability(detail) == ("completed", "error", "none")
    assert detail["transcript"] == {
        "availability": "error",
        "note": "The transcript could not be read: OpenPhone answered HTTP 200 with a body that is not the "
        "JSON it documents. Try again; if it persists, OpenPhone may be having problems.",
        "dialogue": None,
    }


async def test_get_call_of_an_unknown_call_is_an_error(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    message = failed(await call(tool_server, transport, "get-call", {"callId": "ACnothing"}))
    assert message.startswith(f"{NOT_FOUND}: Call not found.")
    assert sandbox.requests == [("GET", "/v1/calls/ACnothing")]


@pytest.mark.parametrize("name", ["get-call", "get-call-recordings", "get-voicemail"])
async def test_an_id_that_could_change_the_path_is_refused_before_calling_openphone(
    tool_server: LiveServer, sandbox: SandboxState, name: str
) -> None:
    message = failed(await call(tool_server, HTTP, name, {"callId": "../v1/webhooks"}))
    assert message == (
        "Invalid arguments: callId: String should match pattern '^[A-Za-z0-9_-]+$' (string_pattern_mismatch)"
    )
    assert sandbox.requests == []


# get-call-recordings --------------------------------------------------------------------------------


async def test_a_paused_call_has_two_segments(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    result = ok(
        await call(tool_server, transport, "get-call-recordings", {"callId": seed.CALL_TWO_RECORDINGS_ID})
    )
    assert (result["availability"], result["callId"]) == ("completed", seed.CALL_TWO_RECORDINGS_ID)
    assert [(r["id"], r["duration"], r["url"]) for r in result["recordings"]] == [
        ("CRsandboxCallBravo1a", 95, "https://recordings.sandbox.invalid/ACsandboxCallBravo1-a.mp3"),
        ("CRsandboxCallBravo1b", 64, "https://recordings.sandbox.invalid/ACsandboxCallBravo1-b.mp3"),
    ]
    assert result["note"].endswith("anyone holding one can play the audio; never share or post them.")


@pytest.mark.parametrize(
    ("call_id", "expected"),
    [
        pytest.param(
            seed.CALL_NOT_TRANSCRIBED_ID,
            "This call has no recording (it was not answered, or recording was off).",
            id="missed",
        ),
        pytest.param(
            seed.CALL_PLAN_INELIGIBLE_ID,
            "OpenPhone refused the recordings: this plan or account does not include call recording.",
            id="not-on-plan",
        ),
    ],
)
async def test_calls_without_recordings_say_why(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState, call_id: str, expected: str
) -> None:
    result = ok(await call(tool_server, transport, "get-call-recordings", {"callId": call_id}))
    assert (result["note"], result["recordings"]) == (expected, [])


async def test_recordings_of_an_unknown_call_are_an_error(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    message = failed(await call(tool_server, transport, "get-call-recordings", {"callId": "ACnothing"}))
    assert message.startswith(f"{NOT_FOUND}: Call Recording with ID ACnothing not found.")


# get-voicemail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call_id", "expected", "note"),
    [
        pytest.param(
            seed.CALL_VOICEMAIL_ID,
            "completed",
            "Voicemail attached. The URLs are private links",
            id="completed",
        ),
        pytest.param(
            seed.CALL_VOICEMAIL_PROCESSING_ID,
            "processing",
            "The voicemail is still being processed; try again in a few minutes.",
            id="processing",
        ),
        pytest.param(seed.CALL_TRANSCRIBED_ID, "none", "No voicemail was left on this call.", id="none"),
    ],
)
async def test_get_voicemail_states(
    tool_server: LiveServer,
    transport: tuple[str, str],
    sandbox: SandboxState,
    call_id: str,
    expected: str,
    note: str,
) -> None:
    result = ok(await call(tool_server, transport, "get-voicemail", {"callId": call_id}))
    assert (result["callId"], result["availability"]) == (call_id, expected)
    assert result["note"].startswith(note)
    assert (result["voicemail"] is None) == (expected == "none")


async def test_a_processing_voicemail_has_no_transcript_or_url_yet(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    result = ok(await call(tool_server, HTTP, "get-voicemail", {"callId": seed.CALL_VOICEMAIL_PROCESSING_ID}))
    assert result["voicemail"] == {
        "id": "VMsandboxFoxtrot1",
        "status": "in-progress",
        "duration": None,
        "transcript": None,
        "recordingUrl": None,
    }


async def test_no_voicemail_is_told_apart_from_an_unknown_call(
    tool_server: LiveServer, transport: tuple[str, str], sandbox: SandboxState
) -> None:
    message = failed(await call(tool_server, transport, "get-voicemail", {"callId": "ACnothing"}))
    assert message.startswith(f"{NOT_FOUND}: Call not found.")
    assert sandbox.requests == [("GET", "/v1/call-voicemails/ACnothing"), ("GET", "/v1/calls/ACnothing")]


# every new tool: OpenPhone's rate limit, then success -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "arguments", "path"),
    [
        pytest.param(
            "list-calls",
            {"inbox": seed.MAIN_LINE_ID, "participant": seed.JORDAN_NUMBER},
            "/v1/calls",
            id="list-calls",
        ),
        pytest.param("get-call", {"callId": seed.CALL_VOICEMAIL_ID}, "/v1/calls/{callId}", id="get-call"),
        pytest.param(
            "get-call-recordings",
            {"callId": seed.CALL_TRANSCRIBED_ID},
            "/v1/call-recordings/{callId}",
            id="recordings",
        ),
        pytest.param(
            "get-voicemail",
            {"callId": seed.CALL_VOICEMAIL_ID},
            "/v1/call-voicemails/{callId}",
            id="voicemail",
        ),
        pytest.param("list-users", {}, "/v1/users", id="list-users"),
        pytest.param("get-user", {"userId": seed.AGENT_USER_ID}, "/v1/users/{userId}", id="get-user"),
        pytest.param(
            "get-phone-number",
            {"inbox": seed.SUPPORT_LINE_ID},
            "/v1/phone-numbers/{phoneNumberId}",
            id="phone-number",
        ),
    ],
)
async def test_a_429_is_retried_then_succeeds(
    tool_server: LiveServer,
    transport: tuple[str, str],
    sandbox: SandboxState,
    name: str,
    arguments: dict[str, Any],
    path: str,
) -> None:
    sandbox.faults.plan("GET", path, Fault.status(429, retry_after=0))
    ok(await call(tool_server, transport, name, arguments))
    assert [fault.code for _, _, fault in sandbox.faults.applied] == [429]
    assert sandbox.faults.planned == ()
