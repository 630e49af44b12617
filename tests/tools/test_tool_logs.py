"""What the gateway logs while tools run: never a key, a token, a message body, a full phone number
or a recording URL."""

from __future__ import annotations

import logging
import re

import pytest

from tests.clients import connect
from tests.conftest import LiveServer
from tests.tools.test_tools_over_mcp import call
from tools.sandbox import Fault, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

HTTP = ("streamable", "legacy")
BODY = "Door code is 4471, see you at six"
BAD_KEY = "op-wrong-key-5d41402abc4b2a76"
PHONE = re.compile(r"\+?\d{10,15}")
RECORDING_HOST = "recordings.sandbox.invalid"
# The gateway runs in this process; the SDK client's own debug logs (which echo what it sends) are not ours.
SERVER_LOGGERS = ("tools", "gateway", "uvicorn", "aiohttp", "starlette", "asyncio")


async def test_logs_hold_no_key_body_or_phone_number(
    tool_server: LiveServer, sandbox: SandboxState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    send = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": BODY}
    sandbox.faults.plan("POST", "/v1/messages", Fault.status(429, retry_after=0), Fault.status(500))
    await call(tool_server, HTTP, "send-message", send)
    await call(tool_server, HTTP, "send-message", send)
    await call(tool_server, HTTP, "bulk-messages", {**send, "to": [seed.PRIYA_NUMBER, seed.ELENA_NUMBER]})
    await call(tool_server, HTTP, "send-message", {**send, "to": "not a number"})
    await call(
        tool_server,
        HTTP,
        "fetch-messages",
        {"inbox": seed.MAIN_LINE_NUMBER, "participant": seed.JORDAN_NUMBER},
    )
    await call(
        tool_server, HTTP, "create-contact", {"firstName": "Ana", "emails": [{"value": "ana@example.com"}]}
    )
    async with connect(tool_server, *HTTP, api_key=BAD_KEY) as client:
        await client.call_tool("list-phone-numbers", {})
    logged = [record for record in caplog.records if record.name.startswith(SERVER_LOGGERS)]
    assert any(record.name == "tools.client" for record in logged), "the upstream calls were logged"
    for record in logged:
        text = record.getMessage() + (
            logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        )
        assert "sandbox-demo-key" not in text
        assert BAD_KEY not in text
        assert BODY not in text
        assert "4471" not in text
        assert "ana@example.com" not in text
        assert not PHONE.search(text), text


async def test_logs_hold_no_recording_or_voicemail_url(
    tool_server: LiveServer, sandbox: SandboxState, caplog: pytest.LogCaptureFixture
) -> None:
    """Recording and voicemail URLs let anyone play the audio, so no log line may carry one."""
    caplog.set_level(logging.DEBUG)
    sandbox.faults.plan("GET", "/v1/call-recordings/{callId}", Fault.status(429, retry_after=0))
    for name, call_id in (
        ("get-call-recordings", seed.CALL_TWO_RECORDINGS_ID),
        ("get-call-recordings", seed.CALL_TRANSCRIBED_ID),
        ("get-voicemail", seed.CALL_VOICEMAIL_ID),
        ("get-call", seed.CALL_VOICEMAIL_ID),
    ):
        result = await call(tool_server, HTTP, name, {"callId": call_id})
        assert RECORDING_HOST in str(result.structured_content)
    logged = [record for record in caplog.records if record.name.startswith(SERVER_LOGGERS)]
    paths = [record.getMessage() for record in logged if record.name == "tools.client"]
    assert any(f"/v1/call-voicemails/{seed.CALL_VOICEMAIL_ID}" in line for line in paths), paths
    for record in logged:
        text = record.getMessage() + (
            logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        )
        assert RECORDING_HOST not in text
        assert ".mp3" not in text
