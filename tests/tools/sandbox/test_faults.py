"""The fault knobs (tools/sandbox/faults.py): each one over real HTTP, and the pure parts directly."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tests.tools.sandbox.expect import error_body
from tools.sandbox import SANDBOX_API_KEY, Fault, SandboxState, create_sandbox_app
from tools.sandbox.data import JORDAN_NUMBER, MAIN_LINE_ID
from tools.sandbox.faults import FaultKind, Faults

pytestmark = pytest.mark.anyio

SEND = {"from": MAIN_LINE_ID, "to": [JORDAN_NUMBER], "content": "Hello"}


async def _concurrently(client: httpx.AsyncClient, path: str, count: int) -> list[int]:
    """The statuses of `count` GETs of `path` sent at once."""
    statuses: list[int] = []

    async def fetch() -> None:
        statuses.append((await client.get(path)).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(count):
            group.start_soon(fetch)
    return statuses


class TestLatency:
    async def test_latency_delays_every_response(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.latency = 0.25
        started = time.monotonic()
        response = await client.get("/v1/phone-numbers")
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.25

    async def test_latency_delays_unknown_routes_too(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.latency = 0.2
        started = time.monotonic()
        assert (await client.get("/v1/nothing")).status_code == 404
        assert time.monotonic() - started >= 0.2


class TestRateLimit:
    async def test_over_the_limit_is_429_with_retry_after(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        """Notes §3.2: N requests per second per key, then 429; the spec documents no 429 body."""
        sandbox.state.faults.rate_limit = 3
        statuses = [(await client.get("/v1/phone-numbers")).status_code for _ in range(3)]
        response = await client.get("/v1/phone-numbers")
        assert statuses == [200, 200, 200]
        assert response.headers["retry-after"] == "1"
        assert error_body(response, 429) == {
            "message": "API rate limit exceeded",
            "code": "0400429",
            "status": 429,
            "docs": "https://openphone.com/docs",
            "title": "Too Many Requests",
        }

    async def test_the_window_slides(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.rate_limit = 1
        assert (await client.get("/v1/phone-numbers")).status_code == 200
        assert (await client.get("/v1/phone-numbers")).status_code == 429
        await anyio.sleep(1.05)
        assert (await client.get("/v1/phone-numbers")).status_code == 200

    async def test_refused_keys_do_not_count(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        """Auth comes first, so requests with a bad key use none of the sandbox key's allowance."""
        sandbox.state.faults.rate_limit = 1
        for _ in range(3):
            assert (
                await client.get("/v1/phone-numbers", headers={"Authorization": "wrong"})
            ).status_code == 401
        assert (await client.get("/v1/phone-numbers")).status_code == 200

    async def test_concurrent_requests_get_exactly_the_allowance(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.rate_limit = 3
        statuses = await _concurrently(client, "/v1/phone-numbers", 6)
        assert sorted(statuses) == [200, 200, 200, 429, 429, 429]

    def test_admit_counts_a_sliding_one_second_window(self) -> None:
        faults = Faults()
        faults.rate_limit = 2
        decisions = [faults.admit("key", now) for now in (10.0, 10.1, 10.5, 11.0, 11.05, 11.2)]
        assert decisions == [True, True, False, True, False, True]

    def test_admit_keeps_one_window_per_key(self) -> None:
        faults = Faults()
        faults.rate_limit = 1
        assert [faults.admit(key, 5.0) for key in ("a", "b", "a")] == [True, True, False]

    def test_no_limit_by_default(self) -> None:
        faults = Faults()
        assert all(faults.admit("key", 1.0) for _ in range(100))


class TestPlannedStatus:
    async def test_a_planned_500_gets_the_documented_body_and_sends_nothing(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.plan("POST", "/v1/messages", Fault.status(500))
        response = await client.post("/v1/messages", json=SEND)
        assert error_body(response, 500) == {
            "message": "An unknown error occurred",
            "code": "0201500",
            "status": 500,
            "docs": "https://openphone.com/docs",
            "title": "Unknown",
        }
        assert sandbox.state.sent_messages == []

    async def test_a_fault_is_used_once(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.plan("POST", "/v1/messages", Fault.status(500))
        statuses = [(await client.post("/v1/messages", json=SEND)).status_code for _ in range(2)]
        assert statuses == [500, 202]
        assert sandbox.state.faults.planned == ()

    async def test_after_effect_records_the_send_then_fails(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        """The gateway-timeout case: the API acted, the client saw an error (notes §2.1: no idempotency)."""
        sandbox.state.faults.plan("POST", "/v1/messages", Fault.status(504, after_effect=True))
        response = await client.post("/v1/messages", json=SEND)
        assert error_body(response, 504)["code"] == "0200504"
        assert [message["text"] for message in sandbox.state.sent_messages] == ["Hello"]

    async def test_retry_after(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.plan(
            "GET", "/v1/phone-numbers", Fault.status(503, retry_after=2), Fault.status(429, 0.5)
        )
        first = await client.get("/v1/phone-numbers")
        second = await client.get("/v1/phone-numbers")
        assert (first.status_code, first.headers["retry-after"]) == (503, "2")
        assert (second.status_code, second.headers["retry-after"]) == (429, "0.5")

    async def test_without_retry_after_there_is_no_header(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.plan("GET", "/v1/phone-numbers", Fault.status(502))
        response = await client.get("/v1/phone-numbers")
        assert response.status_code == 502
        assert "retry-after" not in response.headers

    async def test_concurrent_requests_use_each_fault_once(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.plan("GET", "/v1/phone-numbers", Fault.status(500), Fault.status(500))
        assert sorted(await _concurrently(client, "/v1/phone-numbers", 6)) == [200, 200, 200, 200, 500, 500]

    async def test_a_route_template_matches_every_id(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.plan("GET", "/v1/call-transcripts/{id}", Fault.status(404), Fault.status(500))
        first = await client.get("/v1/call-transcripts/ACsandboxCallAlpha1")
        second = await client.get("/v1/call-transcripts/ACsandboxCallBravo1")
        assert (error_body(first, 404)["code"], error_body(second, 500)["code"]) == ("0600404", "0601500")
        assert sandbox.state.faults.applied == [
            ("GET", "/v1/call-transcripts/ACsandboxCallAlpha1", Fault.status(404)),
            ("GET", "/v1/call-transcripts/ACsandboxCallBravo1", Fault.status(500)),
        ]

    async def test_an_exact_path_matches_only_itself(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.plan("GET", "/v1/contacts/6740a1c2e3f4051627384902", Fault.status(500))
        assert (await client.get("/v1/contacts/6740a1c2e3f4051627384901")).status_code == 200
        assert (await client.get("/v1/contacts/6740a1c2e3f4051627384902")).status_code == 500

    async def test_the_method_must_match(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.plan("post", "/v1/contacts", Fault.status(500))
        assert (await client.get("/v1/contacts", params={"maxResults": "1"})).status_code == 200
        assert len(sandbox.state.faults.planned) == 1

    async def test_faults_wait_behind_auth(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        """A request with a bad key is refused before it can use a planned fault."""
        sandbox.state.faults.plan("GET", "/v1/phone-numbers", Fault.status(500))
        assert (await client.get("/v1/phone-numbers", headers={"Authorization": "x"})).status_code == 401
        assert (await client.get("/v1/phone-numbers")).status_code == 500

    @pytest.mark.parametrize(
        ("code", "retry_after"),
        [
            pytest.param(200, None, id="success"),
            pytest.param(302, None, id="redirect"),
            pytest.param(599, None, id="not-a-status"),
            pytest.param(503, -1.0, id="negative-retry-after"),
        ],
    )
    def test_status_faults_must_be_errors(self, code: int, retry_after: float | None) -> None:
        with pytest.raises(ValueError, match="must"):
            Fault.status(code, retry_after)


class TestPlannedBreakage:
    async def test_hang_never_answers(self, sandbox: Sandbox, client: httpx.AsyncClient) -> None:
        sandbox.state.faults.plan("GET", "/v1/phone-numbers", Fault.hang())
        async with httpx.AsyncClient(
            base_url=sandbox.url, headers={"Authorization": SANDBOX_API_KEY}
        ) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get("/v1/phone-numbers", timeout=0.3)
        assert sandbox.state.requests == [("GET", "/v1/phone-numbers")]
        assert sandbox.check.exchanges == []
        assert (await client.get("/v1/phone-numbers")).status_code == 200

    async def test_hang_in_process_ends_when_the_caller_gives_up(self) -> None:
        """In process (httpx's ASGI transport, as `--sandbox` runs it) a hang lasts until cancelled."""
        state = SandboxState()
        state.faults.plan("GET", "/v1/phone-numbers", Fault.hang())
        transport = httpx.ASGITransport(create_sandbox_app(state))
        headers = {"Authorization": SANDBOX_API_KEY}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.test", headers=headers
        ) as http:
            with anyio.move_on_after(0.3) as scope:
                await http.get("/v1/phone-numbers")
            assert scope.cancelled_caught
            assert (await http.get("/v1/phone-numbers")).status_code == 200

    async def test_malformed_is_a_200_that_is_not_json(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.faults.plan("GET", "/v1/messages/{id}", Fault.malformed())
        response = await client.get("/v1/messages/ACsandboxMsgAlpha01")
        assert (response.status_code, response.headers["content-type"]) == (200, "application/json")
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            response.json()
        assert len(sandbox.check.response_violations) == 1
        assert "Failed to deserialize value with application/json" in sandbox.check.response_violations[0]
        sandbox.check.response_violations.clear()

    async def test_html_404_on_a_known_route(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.plan("GET", "/v1/conversations", Fault.html_404())
        response = await client.get("/v1/conversations", params={"maxResults": "1"})
        assert (response.status_code, response.headers["content-type"]) == (404, "text/html; charset=utf-8")
        assert "<pre>Cannot GET /v1/conversations</pre>" in response.text
        assert len(sandbox.check.response_violations) == 1
        sandbox.check.response_violations.clear()

    def test_constructors(self) -> None:
        assert [Fault.hang().kind, Fault.malformed().kind, Fault.html_404().kind] == [
            FaultKind.HANG,
            FaultKind.MALFORMED,
            FaultKind.HTML_404,
        ]


class TestFailingRecipients:
    @pytest.mark.parametrize(
        ("status", "code", "title"),
        [
            pytest.param(403, "0202403", "Not Phone Number User", id="403"),
            pytest.param(400, "0206400", "A2P Registration Not Approved", id="400"),
            pytest.param(402, "0200402", "Not Enough Credits", id="402"),
        ],
    )
    async def test_a_failing_recipient_answers_its_documented_error(
        self, client: httpx.AsyncClient, sandbox: Sandbox, status: int, code: str, title: str
    ) -> None:
        sandbox.state.faults.failing_recipients[JORDAN_NUMBER] = status
        body = error_body(await client.post("/v1/messages", json=SEND), status)
        assert (body["code"], body["title"]) == (code, title)
        assert sandbox.state.sent_messages == []

    async def test_other_recipients_still_work(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.faults.failing_recipients["+12125550147"] = 403
        assert (await client.post("/v1/messages", json=SEND)).status_code == 202
