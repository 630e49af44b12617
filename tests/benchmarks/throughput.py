"""Scenario 1: `tools/call` of `list-phone-numbers` over Streamable HTTP, requests/s and latency.

The gateway runs as deployed (`GATEWAY_ENV=production`, access log on, a real sealed Bearer token),
in the 2025-06-18 handshake style and the 2026-07-28 envelope; beside it the same gateway with
`LOG_LEVEL=WARNING` (what the access line costs) and with the in-process sandbox as its OpenPhone.

Every target makes the same upstream call to the same fake OpenPhone process. wrk drives each in turn,
with a warm-up that is thrown away, over several rounds whose order alternates, so drift on a shared
machine falls on every target alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

from tests.benchmarks.measure import LoadResult, alternating_rounds
from tests.benchmarks.processes import Cores
from tests.benchmarks.targets import (
    ENVELOPE_REVISION,
    HANDSHAKE_REVISION,
    access_token,
    gateway,
    peer,
    upstream,
)
from tests.benchmarks.wrk import HTTPRequest, run_wrk

TOOL: Final = "list-phone-numbers"
# A phone-number id from the canned upstream body: proof that an answer carries the upstream's data.
EXPECTED_IN_RESULT: Final = "PNsandboxMain"
ACCEPT: Final = "application/json, text/event-stream"


@dataclass(frozen=True)
class Target:
    name: str
    request: HTTPRequest


def handshake_call(url: str, auth: dict[str, str]) -> HTTPRequest:
    """A 2025-06-18 client after its `initialize`: the revision travels in MCP-Protocol-Version."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": TOOL, "arguments": {}}}
    headers = {
        "content-type": "application/json",
        "accept": ACCEPT,
        "mcp-protocol-version": HANDSHAKE_REVISION,
        **auth,
    }
    return HTTPRequest("POST", f"{url}/mcp", headers, orjson.dumps(body))


def envelope_call(url: str, auth: dict[str, str]) -> HTTPRequest:
    """A 2026-07-28 request: no handshake; the envelope in `_meta` and the routing headers."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": ENVELOPE_REVISION,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    params = {"name": TOOL, "arguments": {}, "_meta": meta}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    headers = {
        "content-type": "application/json",
        "accept": ACCEPT,
        "mcp-protocol-version": ENVELOPE_REVISION,
        "mcp-method": "tools/call",
        "mcp-name": TOOL,
        **auth,
    }
    return HTTPRequest("POST", f"{url}/mcp", headers, orjson.dumps(body))


def initialize(url: str, auth: dict[str, str]) -> None:
    """The handshake a 2025-06-18 client makes once before its calls."""
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE_REVISION,
            "capabilities": {},
            "clientInfo": {"name": "benchmark", "version": "1"},
        },
    }
    headers = {"accept": ACCEPT, **auth}
    response = httpx.post(f"{url}/mcp", json=body, headers=headers, timeout=10)
    response.raise_for_status()
    httpx.post(
        f"{url}/mcp",
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers={**headers, "mcp-protocol-version": HANDSHAKE_REVISION},
        timeout=10,
    ).raise_for_status()


def check_answer(target: Target, client: httpx.Client | None = None) -> None:
    """One request outside the load (on `client` if given): a 200 whose JSON-RPC result carries the
    upstream's data."""
    request = target.request
    response = (client or httpx).request(
        request.method, request.url, headers=dict(request.headers), content=request.body, timeout=10
    )
    answer: Any = response.json() if response.status_code == 200 else None
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, dict) or result.get("isError") or EXPECTED_IN_RESULT not in response.text:
        raise RuntimeError(f"{target.name} answered {response.status_code}: {response.text[:500]}")


@contextlib.contextmanager
def targets(cores: Cores) -> Iterator[list[Target]]:
    """Every target, started and checked; the gateways hold real OAuth access tokens."""
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(upstream(cores))
        proxied = stack.enter_context(gateway(fake.url, cores))
        sandboxed = stack.enter_context(gateway(None, cores, name="gateway (sandbox)"))
        quiet = stack.enter_context(gateway(fake.url, cores, name="gateway (quiet)", LOG_LEVEL="WARNING"))
        sdk = stack.enter_context(peer("sdk", fake.url, cores))
        bare = stack.enter_context(peer("bare", fake.url, cores))
        bearer = {"authorization": f"Bearer {access_token(proxied.url)}"}
        sandbox_bearer = {"authorization": f"Bearer {access_token(sandboxed.url)}"}
        quiet_bearer = {"authorization": f"Bearer {access_token(quiet.url)}"}
        for url, auth in (
            (proxied.url, bearer),
            (sandboxed.url, sandbox_bearer),
            (quiet.url, quiet_bearer),
            (sdk.url, {}),
        ):
            initialize(url, auth)
        chosen = [
            Target(f"gateway {HANDSHAKE_REVISION}", handshake_call(proxied.url, bearer)),
            Target(f"gateway {ENVELOPE_REVISION}", envelope_call(proxied.url, bearer)),
            Target(f"SDK {HANDSHAKE_REVISION}", handshake_call(sdk.url, {})),
            Target(f"SDK {ENVELOPE_REVISION}", envelope_call(sdk.url, {})),
            Target("bare Starlette ceiling", handshake_call(bare.url, {})),
            Target(
                f"gateway {HANDSHAKE_REVISION}, in-process sandbox",
                handshake_call(sandboxed.url, sandbox_bearer),
            ),
            Target(
                f"gateway {HANDSHAKE_REVISION}, no access log",
                handshake_call(quiet.url, quiet_bearer),
            ),
        ]
        for target in chosen:
            check_answer(target)
        yield chosen


def measure(
    cores: Cores, *, rounds: int, warmup: float, duration: float, connections: int
) -> dict[str, list[LoadResult]]:
    """Each target's result per round, in target order."""

    def run(target: Target) -> LoadResult:
        run_wrk(target.request, connections=connections, seconds=warmup, cpu=cores.load)
        return run_wrk(target.request, connections=connections, seconds=duration, cpu=cores.load)

    with targets(cores) as chosen:
        results = alternating_rounds(chosen, lambda target: target.name, run, rounds)
        for target in chosen:
            check_answer(target)
    return results
