"""The soak's mixed load on one gateway, and the tally of what it did and what went wrong.

Four kinds of client share one event loop, each looping until `stop`:
* `CALL_CONNECTIONS` connections of `tools/call` over Streamable HTTP with the current access token;
* `SSE_SESSIONS` legacy SSE sessions that churn: open, `initialize`, `CALLS_PER_SSE_SESSION` calls
  answered on the stream, close, again;
* a full OAuth flow (register, consent, code exchange) every `FLOW_SECONDS`;
* a refresh every `REFRESH_SECONDS`, whose new access token every later call and session uses;
* with `writes`, one more connection of `create-contact` and `send-message`, to a few regular numbers
  and to `NEWCOMERS` numbers in turn: more than the sandbox keeps of each, so every one of its caps is
  reached early and held (the fake OpenPhone answers every request with the phone-number list, so it
  takes no writes).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import httpx
import orjson

from tests.benchmarks.sse_client import SSESession, UnexpectedStatus
from tests.benchmarks.throughput import EXPECTED_IN_RESULT, TOOL, handshake_call
from tests.oauth.connections_flow import unlock
from tests.oauth.flow import SEND_FREELY, exchange, tokens_for

CALL_CONNECTIONS: Final = 16
SSE_SESSIONS: Final = 40
CALLS_PER_SSE_SESSION: Final = 20
FLOW_SECONDS: Final = 5.0
REFRESH_SECONDS: Final = 2.0
REGULARS: Final = 12
NEWCOMERS: Final = 700
# After a failure a client waits this long, so a broken server is not hammered in a tight loop.
ERROR_PAUSE_SECONDS: Final = 0.2
REQUEST_TIMEOUT_SECONDS: Final = 30.0
_REQUEST: Final = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
# Past `stop`, how long the clients get to finish what they started before the run is called stuck.
FINISH_SECONDS: Final = 2 * REQUEST_TIMEOUT_SECONDS


@dataclass
class Slice:
    """What completed within one slice of the run."""

    calls: int = 0
    sse_replies: int = 0
    flows: int = 0
    refreshes: int = 0
    writes: int = 0
    errors: int = 0


@dataclass
class Tally:
    """Completed work per slice, and every failure by what it was."""

    started: float
    slice_seconds: float
    slices: list[Slice]
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    server_errors: int = 0
    lost_replies: int = 0
    unmatched_replies: int = 0

    @classmethod
    def over(cls, seconds: float, slices: int) -> Tally:
        return cls(time.monotonic(), seconds / slices, [Slice() for _ in range(slices)])

    def now(self) -> Slice:
        index = int((time.monotonic() - self.started) / self.slice_seconds)
        return self.slices[min(max(index, 0), len(self.slices) - 1)]

    def fail(self, what: str, status: int | None = None) -> None:
        self.errors[what if status is None else f"{what}: {status}"] += 1
        self.now().errors += 1
        if status is not None and status >= 500:
            self.server_errors += 1


@dataclass
class Credentials:
    """The current OAuth grant: the access token every new call uses, and the refresh token."""

    client_id: str
    access_token: str
    refresh_token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


async def first_grant(url: str) -> Credentials:
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_SECONDS) as web:
        # The soak sends without asking: a sign-in choosing a daily allowance and new numbers.
        client, tokens = await tokens_for(web, choices=SEND_FREELY)
    return Credentials(client["client_id"], tokens["access_token"], tokens["refresh_token"])


def _answered(payload: Any) -> bool:
    result = payload.get("result") if isinstance(payload, dict) else None
    return isinstance(result, dict) and not result.get("isError") and EXPECTED_IN_RESULT in str(result)


async def _pause(until: float, stop: float) -> None:
    await asyncio.sleep(max(0.0, min(until, stop) - time.monotonic()))


async def _until(stop: float, tally: Tally, what: str, step: Callable[[], Awaitable[None]]) -> None:
    """Run `step` until `stop`; a transport failure or timeout is tallied as `what` and paused on."""
    while time.monotonic() < stop:
        try:
            await step()
        except (aiohttp.ClientError, httpx.HTTPError, TimeoutError, orjson.JSONDecodeError) as error:
            tally.fail(f"{what}: {type(error).__name__}")
            await asyncio.sleep(ERROR_PAUSE_SECONDS)


async def _calls(
    http: aiohttp.ClientSession, url: str, grant: Credentials, tally: Tally, stop: float
) -> None:
    request = handshake_call(url, {})

    async def call() -> None:
        headers = {**request.headers, **grant.bearer}
        async with http.post(request.url, data=request.body, headers=headers, timeout=_REQUEST) as response:
            body = await response.read()
        if response.status == 200 and _answered(orjson.loads(body)):
            tally.now().calls += 1
        else:
            tally.fail("tools/call", response.status)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)

    await _until(stop, tally, "tools/call", call)


async def _sse_session(
    http: aiohttp.ClientSession, url: str, grant: Credentials, tally: Tally, stop: float
) -> None:
    async def session() -> None:
        client = SSESession(http, url, grant.bearer)
        try:
            await client.open()
            await client.initialize()
            for _ in range(CALLS_PER_SSE_SESSION):
                if time.monotonic() >= stop:
                    break
                answer = await client.request("tools/call", {"name": TOOL, "arguments": {}})
                if _answered(answer):
                    tally.now().sse_replies += 1
                else:
                    tally.fail("legacy SSE: wrong answer")
        except TimeoutError:  # the endpoint event or an answer did not come within 30 s
            tally.lost_replies += 1
            tally.fail("legacy SSE: reply lost")
        except UnexpectedStatus as error:
            tally.fail(f"legacy SSE: {str(error).rsplit(' answered', 1)[0]}", error.status)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
        finally:
            await client.close()
            tally.unmatched_replies += client.unmatched
            if client.unmatched:
                tally.fail("legacy SSE: unmatched reply")

    await _until(stop, tally, "legacy SSE", session)


async def _flows(url: str, tally: Tally, stop: float) -> None:
    async def flow() -> None:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_SECONDS) as web:
            try:
                await tokens_for(web)
            except AssertionError as error:  # the flow helper asserts each step's status
                tally.fail(f"OAuth flow: {str(error).splitlines()[0][:120]}")
            else:
                tally.now().flows += 1
        await _pause(started + FLOW_SECONDS, stop)

    await _until(stop, tally, "OAuth flow", flow)


async def _refreshes(url: str, grant: Credentials, tally: Tally, stop: float) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_SECONDS) as web:

        async def refresh() -> None:
            await _pause(time.monotonic() + REFRESH_SECONDS, stop)
            if time.monotonic() >= stop:
                return
            response = await exchange(
                web,
                grant_type="refresh_token",
                refresh_token=grant.refresh_token,
                client_id=grant.client_id,
            )
            if response.status_code != 200:
                tally.fail("refresh", response.status_code)
                return
            tokens = response.json()
            grant.access_token, grant.refresh_token = tokens["access_token"], tokens["refresh_token"]
            tally.now().refreshes += 1

        await _until(stop, tally, "refresh", refresh)


def _write_call(serial: int) -> dict[str, Any]:
    """The `serial`th write: in turn a new contact, a send to a regular, a send to a newcomer."""
    turn, kind = divmod(serial, 3)
    if kind == 0:
        arguments = {"firstName": f"Soak {serial}", "lastName": "Guest", "company": "Soak test"}
        return {"name": "create-contact", "arguments": arguments}
    to = f"+1303666{turn % REGULARS:04d}" if kind == 1 else f"+1303555{turn % NEWCOMERS:04d}"
    return {"name": "send-message", "arguments": {"from": "PNsandboxMain", "to": to, "content": "Soak"}}


async def _writes(
    http: aiohttp.ClientSession, url: str, grant: Credentials, tally: Tally, stop: float
) -> None:
    request = handshake_call(url, {})
    serials = iter(range(2**62))

    async def write() -> None:
        call = _write_call(next(serials))
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call})
        headers = {**request.headers, **grant.bearer}
        async with http.post(request.url, data=body, headers=headers, timeout=_REQUEST) as response:
            answer = await response.read()
        payload = orjson.loads(answer) if response.status == 200 else None
        result = payload.get("result") if isinstance(payload, dict) else None
        if isinstance(result, dict) and not result.get("isError"):
            tally.now().writes += 1
        else:
            tally.fail(f"tools/call {call['name']}", response.status)
            await asyncio.sleep(ERROR_PAUSE_SECONDS)

    await _until(stop, tally, "tools/call write", write)


async def run_load(url: str, grant: Credentials, tally: Tally, stop: float, *, writes: bool) -> None:
    """Every client of the mixed load against the gateway at `url`, until `stop` (monotonic)."""
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        try:
            async with asyncio.timeout(stop - time.monotonic() + FINISH_SECONDS):
                await asyncio.gather(
                    *(_calls(http, url, grant, tally, stop) for _ in range(CALL_CONNECTIONS)),
                    *(_sse_session(http, url, grant, tally, stop) for _ in range(SSE_SESSIONS)),
                    _flows(url, tally, stop),
                    _refreshes(url, grant, tally, stop),
                    *([_writes(http, url, grant, tally, stop)] if writes else []),
                )
        except TimeoutError:
            tally.fail(f"clients still busy {FINISH_SECONDS:g} s after the end: stopped")


async def connected_apps(url: str) -> dict[str, int]:
    """What the Connected apps page lists for the load's key once it has run: its sign-ins (bounded
    at 50 however many flows ran) and its writes (bounded at 100)."""
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_SECONDS) as web:
        page = await unlock(web)
    return {
        "status": page.status_code,
        "sign_ins_listed": page.text.count('<li class="connection"'),
        "writes_listed": page.text.count("<tr><td>"),
    }
