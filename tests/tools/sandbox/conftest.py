"""One uvicorn server for the sandbox tests, and a fresh sandbox behind SpecCheck for each test.

The server runs in a thread on a socket bound to 127.0.0.1:0 and serves whatever app the current test
installed, so each test gets a new `SandboxState` without paying for a new server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import serve
from tests.spec_check import SpecCheck
from tools.sandbox import SANDBOX_API_KEY, SandboxState, create_sandbox_app

REQUEST_TIMEOUT_SECONDS = 5.0


@dataclass
class Sandbox:
    """A sandbox being served: its URL, its state (knobs and all) and the spec check in front of it."""

    url: str
    state: SandboxState
    check: SpecCheck


class _Slot:
    """The server's app: forwards each request to the app the current test installed."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            raise RuntimeError("no sandbox is installed")
        await self.app(scope, receive, send)


@dataclass
class SandboxServer:
    url: str
    slot: _Slot

    def install(self) -> Sandbox:
        """Serve a fresh, seeded sandbox (behind a fresh SpecCheck) from now on."""
        state = SandboxState()
        check = SpecCheck(create_sandbox_app(state))
        self.slot.app = check
        return Sandbox(self.url, state, check)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    slot = _Slot()
    for url in serve(slot, lifespan="off"):
        yield SandboxServer(url, slot)


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[Sandbox]:
    """A fresh sandbox; after the test, nothing that passed through it may have broken the spec.

    A test that provokes a violation on purpose asserts it and then clears the check's lists.
    """
    sandbox = sandbox_server.install()
    yield sandbox
    assert sandbox.check.violations == []


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for the sandbox, sending the sandbox key."""
    headers = {"Authorization": SANDBOX_API_KEY}
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
    ) as http:
        yield http
