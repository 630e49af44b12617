"""OpenPhone misbehaving: 429s, 5xx, hangs, malformed bodies, unreachable hosts and bulk sends with failures.

Each is driven through the real gateway with the sandbox's fault knobs, and checked where it matters:
in what the model is told, and in what the sandbox recorded (nothing sent twice, nothing lost).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from tests.clients import connect
from tests.conftest import SCRIPT_SENDING, LiveServer, free_port, make_settings, serve
from tests.spec_check import SpecCheck
from tests.tools.conftest import Upstream, serve_gateway
from tests.tools.test_tools_over_mcp import call, failed, ok
from tools.sandbox import SANDBOX_API_KEY, Fault, SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

HTTP = ("streamable", "legacy")
SEND = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": "Your order is ready"}


def posts(sandbox: SandboxState) -> int:
    return sum(1 for method, path in sandbox.requests if (method, path) == ("POST", "/v1/messages"))


async def test_a_read_is_retried_after_429_honouring_retry_after(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("GET", "/v1/phone-numbers", Fault.status(429, retry_after=1))
    started = anyio.current_time()
    result = ok(await call(tool_server, HTTP, "list-phone-numbers", {}))
    assert anyio.current_time() - started >= 1.0
    assert len(result["phoneNumbers"]) == 2
    assert sandbox.requests == [("GET", "/v1/phone-numbers")] * 2


async def test_a_send_refused_with_429_is_sent_once_after_waiting(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("POST", "/v1/messages", Fault.status(429, retry_after=0.1))
    ok(await call(tool_server, HTTP, "send-message", SEND))
    assert posts(sandbox) == 2
    assert len(sandbox.sent_messages) == 1


async def test_a_500_on_a_send_is_reported_and_not_retried(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("POST", "/v1/messages", Fault.status(500, after_effect=True))
    message = failed(await call(tool_server, HTTP, "send-message", SEND))
    assert message.startswith("OpenPhone had a server error (HTTP 500)")
    assert "It may still have taken effect: check (for a message, with fetch-messages)" in message
    assert posts(sandbox) == 1
    assert len(sandbox.sent_messages) == 1


async def test_a_read_is_retried_after_503_at_most_three_times(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("GET", "/v1/messages/{id}", *[Fault.status(503)] * 3)
    message = failed(await call(tool_server, HTTP, "get-message", {"id": "ACsandboxMsgAlpha01"}))
    assert message.startswith("OpenPhone had a server error (HTTP 503)")
    assert "Try again in a minute." in message
    assert sandbox.requests == [("GET", "/v1/messages/ACsandboxMsgAlpha01")] * 3


async def test_a_429_that_persists_says_how_long_to_wait(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("GET", "/v1/phone-numbers", Fault.status(429, retry_after=30))
    message = failed(await call(tool_server, HTTP, "list-phone-numbers", {}))
    assert message == (
        "OpenPhone's rate limit (10 requests per second per key) was still exceeded after retrying. "
        "Wait about 30 s and try again."
    )
    assert len(sandbox.requests) == 1


async def test_a_malformed_body_is_a_clear_error(tool_server: LiveServer, sandbox: SandboxState) -> None:
    sandbox.faults.plan("GET", "/v1/phone-numbers", Fault.malformed())
    message = failed(await call(tool_server, HTTP, "list-phone-numbers", {}))
    assert message.startswith("OpenPhone answered HTTP 200 with a body that is not the JSON it documents.")


async def test_a_malformed_body_after_a_send_warns_it_probably_went_out(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("POST", "/v1/messages", Fault.malformed())
    message = failed(await call(tool_server, HTTP, "send-message", SEND))
    assert "It may still have taken effect" in message
    assert posts(sandbox) == 1


async def test_an_html_404_is_read_as_not_found(tool_server: LiveServer, sandbox: SandboxState) -> None:
    sandbox.faults.plan("GET", "/v1/contacts/{id}", Fault.html_404())
    message = failed(await call(tool_server, HTTP, "get-contact", {"id": seed.CONTACT_JORDAN_ID}))
    assert message == (
        "OpenPhone found nothing with that id. Check the id, or list the items to find the right one."
    )


# A gateway with a 1 s upstream timeout, for hangs -------------------------------------------------


@pytest.fixture(scope="module")
def impatient_server(spec: SpecCheck) -> Iterator[LiveServer]:
    yield from serve_gateway(
        make_settings(free_port(), sandbox=True, openphone_timeout=1, **SCRIPT_SENDING), spec
    )


async def test_a_hang_ends_in_a_timeout_error(impatient_server: LiveServer, sandbox: SandboxState) -> None:
    sandbox.faults.plan("GET", "/v1/phone-numbers", Fault.hang())
    message = failed(await call(impatient_server, HTTP, "list-phone-numbers", {}))
    assert message == "OpenPhone did not answer within 1 s. Try again in a minute."
    assert len(sandbox.requests) == 1


async def test_a_hung_send_is_not_repeated_and_says_to_check(
    impatient_server: LiveServer, sandbox: SandboxState
) -> None:
    sandbox.faults.plan("POST", "/v1/messages", Fault.hang())
    message = failed(await call(impatient_server, HTTP, "send-message", SEND))
    assert message.startswith("OpenPhone did not answer within 1 s. It may still have taken effect")
    assert posts(sandbox) == 1


# Over the network: the sandbox on a real port, the gateway's aiohttp client over TCP ----------------


@pytest.fixture(scope="module")
def networked_server() -> Iterator[tuple[LiveServer, Upstream]]:
    upstream = Upstream()
    checked = SpecCheck(upstream)
    for base in serve(checked, free_port()):
        settings = make_settings(
            free_port(), openphone_api_base=base, openphone_rate_limit=10, **SCRIPT_SENDING
        )
        for server in serve_gateway(settings, None):
            yield server, upstream
    assert checked.checked > 0
    assert not checked.request_violations
    assert not checked.response_violations


async def test_tools_work_over_a_real_connection(networked_server: tuple[LiveServer, Upstream]) -> None:
    server, upstream = networked_server
    sandbox = upstream.reset()
    ok(await call(server, HTTP, "send-message", SEND))
    thread = ok(
        await call(
            server, HTTP, "fetch-messages", {"inbox": seed.MAIN_LINE_ID, "participant": seed.JORDAN_NUMBER}
        )
    )
    assert thread["messages"][0]["text"] == SEND["content"]
    assert len(sandbox.sent_messages) == 1


async def test_the_pacer_keeps_a_bulk_send_under_openphones_limit(
    networked_server: tuple[LiveServer, Upstream],
) -> None:
    server, upstream = networked_server
    sandbox = upstream.reset()
    sandbox.faults.rate_limit = 10
    recipients = [f"+1415555{index:04d}" for index in range(200, 225)]
    result = ok(await call(server, HTTP, "bulk-messages", {**SEND, "to": recipients}))
    assert result["sent"] == 25
    assert posts(sandbox) == 25  # not one 429, so not one retry


async def test_an_unreachable_openphone_is_a_clear_error() -> None:
    settings = make_settings(free_port(), openphone_api_base=f"http://127.0.0.1:{free_port()}")
    for server in serve_gateway(settings, None):
        message = failed(await call(server, HTTP, "send-message", SEND))
    assert message == "Could not connect to OpenPhone; nothing was sent. Try again in a minute."


# bulk-messages ----------------------------------------------------------------------------------------


RECIPIENTS = [f"+1212555{index:04d}" for index in range(100, 130)]


async def test_bulk_send_of_30_with_5_failing_reports_25_sent_and_5_failed(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    failing = RECIPIENTS[3::6]
    sandbox.faults.failing_recipients = dict.fromkeys(failing, 403)
    arguments = {**SEND, "to": [*RECIPIENTS, RECIPIENTS[0], "(212) 555-0101"]}
    result = ok(await call(tool_server, HTTP, "bulk-messages", arguments))
    assert (result["sent"], result["failed"], result["duplicates"], result["notSent"]) == (25, 5, 2, 0)
    by_number = {outcome["to"]: outcome for outcome in result["results"][:30]}
    assert {number for number, outcome in by_number.items() if outcome["status"] == "failed"} == set(failing)
    assert all(by_number[number]["error"].startswith("OpenPhone refused access") for number in failing)
    sent_to = [message["to"][0] for message in sandbox.sent_messages]
    assert sorted(sent_to) == sorted(set(RECIPIENTS) - set(failing))
    assert posts(sandbox) == 30


async def test_bulk_send_stops_after_the_key_is_rejected(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    async with connect(tool_server, *HTTP, api_key="op-revoked-key") as client:
        result = await client.call_tool("bulk-messages", {**SEND, "to": RECIPIENTS[:10]})
    structured = result.structured_content
    assert structured is not None
    assert structured["sent"] == 0
    assert structured["failed"] + structured["notSent"] == 10
    assert structured["notSent"] >= 5
    assert posts(sandbox) == structured["failed"]


async def test_bulk_send_reports_progress_per_recipient(
    tool_server: LiveServer, sandbox: SandboxState
) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with connect(tool_server, *HTTP, api_key=SANDBOX_API_KEY) as client:
        result = await client.call_tool(
            "bulk-messages", {**SEND, "to": RECIPIENTS[:8]}, progress_callback=on_progress
        )
    assert ok(result)["sent"] == 8
    assert [progress for progress, _, _ in seen] == list(range(1, 9))
    assert {message for _, _, message in seen} == {f"sent: {number}" for number in RECIPIENTS[:8]}


async def test_cancelling_a_bulk_send_stops_the_rest_and_logs_what_went_out(
    tool_server: LiveServer, sandbox: SandboxState, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox.faults.latency = 0.2
    caplog.set_level(logging.INFO, logger="tools.bulk")
    async with connect(tool_server, *HTTP, api_key=SANDBOX_API_KEY) as client:
        with pytest.raises(MCPError):
            await client.call_tool("bulk-messages", {**SEND, "to": RECIPIENTS}, read_timeout_seconds=0.7)
    with anyio.fail_after(10):
        # The record comes from the server's thread, which cannot set an anyio.Event of this loop.
        while not any("bulk-messages cancelled" in record.getMessage() for record in caplog.records):  # noqa: ASYNC110
            await anyio.sleep(0.05)
    sent_ids = [message["id"] for message in sandbox.sent_messages]
    assert 0 < len(sent_ids) < len(RECIPIENTS)
    (record,) = [record for record in caplog.records if "bulk-messages cancelled" in record.getMessage()]
    assert record.getMessage() == (
        f"bulk-messages cancelled: {len(sent_ids)} of {len(RECIPIENTS)} recipients sent "
        f"(message ids: {', '.join(sorted(sent_ids))})"
    )
    await anyio.sleep(0.5)
    assert len(sandbox.sent_messages) == len(sent_ids)
