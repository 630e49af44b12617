"""A real gateway serving the OpenPhone tools, with the sandbox behind it and the spec checking both.

One gateway serves the session; its upstream is a fresh sandbox for every test (so counts such as
"exactly one message recorded" are the test's own), wrapped in `SpecCheck`, which validates every
request the client sends and every response the sandbox gives against OpenPhone's OpenAPI spec.
After each test, any new violation fails that test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import SCRIPT_SENDING, LiveServer, free_port, make_settings, serve
from tests.spec_check import SpecCheck
from tests.toolkit import Probe
from tools.sandbox import SANDBOX_API_KEY, SandboxState, create_sandbox_app
from tools.sandbox.faults import FaultKind


class Upstream:
    """The ASGI app behind the gateway's OpenPhone client; `reset` swaps in a fresh sandbox."""

    def __init__(self) -> None:
        self.state = SandboxState()
        self._app = create_sandbox_app(self.state)

    def reset(self) -> SandboxState:
        self.state = SandboxState()
        self._app = create_sandbox_app(self.state)
        return self.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


TRANSPORTS = [
    pytest.param(("streamable", "legacy"), id="streamable-http"),
    pytest.param(("streamable", "2026-07-28"), id="streamable-2026-07-28"),
    pytest.param(("/sse", "legacy"), id="legacy-sse"),
]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Each way a client reaches the tools: `(transport, mode)` for `tests.clients.connect`."""
    transport: tuple[str, str] = request.param
    return transport


@pytest.fixture(scope="session")
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture(scope="session")
def spec(upstream: Upstream) -> SpecCheck:
    return SpecCheck(upstream)


def serve_gateway(settings: Settings, upstream: Any) -> Iterator[LiveServer]:
    """The real gateway (real tool catalogue) with `upstream` as OpenPhone."""
    app = create_app(settings, upstream=upstream)
    for _ in serve(app, settings.port):
        yield LiveServer(settings.public_url, Probe(), settings)


@pytest.fixture(scope="session")
def tool_server(spec: SpecCheck) -> Iterator[LiveServer]:
    yield from serve_gateway(make_settings(free_port(), sandbox=True, **SCRIPT_SENDING), spec)


@pytest.fixture
def sandbox(upstream: Upstream, spec: SpecCheck) -> Iterator[SandboxState]:
    """A fresh sandbox for this test; the test fails if the spec check saw a violation during it."""
    state = upstream.reset()
    before = (len(spec.request_violations), len(spec.response_violations))
    yield state
    new_requests = spec.request_violations[before[0] :]
    # A malformed body or an HTML 404 is off-spec on purpose: that is the fault being tested.
    deliberate = tuple(
        f"{method} {path} -> "
        for method, path, fault in state.faults.applied
        if fault.kind in (FaultKind.MALFORMED, FaultKind.HTML_404)
    )
    new_responses = [
        found for found in spec.response_violations[before[1] :] if not found.startswith(deliberate)
    ]
    assert not new_requests, f"the client sent off-spec requests: {new_requests}"
    assert not new_responses, f"the sandbox gave off-spec responses: {new_responses}"


def sandbox_headers(server: LiveServer, **extra: str) -> dict[str, str]:
    return server.headers(SANDBOX_API_KEY, **extra)


def post_tool_call(server: LiveServer, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One raw tools/call with the sandbox key, answered as JSON; the JSON-RPC response."""
    body = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    headers = {"x-openphone-api-key": SANDBOX_API_KEY, "accept": "application/json"}
    response = httpx.post(f"{server.url}/mcp", json=body, headers=headers, timeout=60)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


@pytest.fixture(scope="session")
def held_server(spec: SpecCheck) -> Iterator[LiveServer]:
    """The gateway as a key-header caller meets it by default: every send waits for a person."""
    settings = make_settings(free_port(), sandbox=True, send_policy="confirm", oauth_rate_limit=10_000)
    yield from serve_gateway(settings, spec)
