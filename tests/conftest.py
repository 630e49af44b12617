"""Shared fixtures: settings, the app factory, and one real uvicorn server on an ephemeral port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from gateway.app import create_app
from gateway.settings import Settings
from tests.toolkit import Probe, build_test_registry

if TYPE_CHECKING:
    from tests.redis_server import RedisServer

# The browser fixtures (one Chromium for the landing, consent and view tests).
pytest_plugins = ("tests.browser",)

# Tests of sending itself (not of its guardrails) send with the key header as a script would: the
# production default asks a person before each send (SEND_POLICY=confirm), so they opt in explicitly.
SCRIPT_SENDING: Final[dict[str, Any]] = {
    "send_policy": "allow",
    "send_daily_limit": 1000,
    "send_new_numbers": True,
}
TEST_SECRET_KEY = "dGVzdC1zZWNyZXQta2V5LW9mLXRoaXJ0eS10d28tYnl0ZXM"
TEST_API_KEY = "op-test-key-0123456789"
OTHER_API_KEY = "op-other-key-9876543210"


@pytest.fixture(scope="session", autouse=True)
def clean_environ() -> None:
    """No setting leaks in from the machine running the tests."""
    for name in Settings.model_fields:
        os.environ.pop(name.upper(), None)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def make_settings(port: int, **overrides: Any) -> Settings:
    """Settings for a test server listening on 127.0.0.1:`port`."""
    values: dict[str, Any] = {"port": port, "secret_keys": (TEST_SECRET_KEY,)}
    values.update(overrides)
    return Settings(**values)


@dataclass
class LiveServer:
    """A running gateway: its base URL and the probe its test tools report to."""

    url: str
    probe: Probe
    settings: Settings

    def headers(self, api_key: str = TEST_API_KEY, **extra: str) -> dict[str, str]:
        return {"x-openphone-api-key": api_key, **extra}


def run_server(settings: Settings, probe: Probe, **app_options: Any) -> Iterator[LiveServer]:
    """Serve `create_app(settings)` with the test tools on a pre-bound socket in a thread."""
    app = create_app(settings, registry=build_test_registry(probe), **app_options)
    for _ in serve(app, settings.port):
        yield LiveServer(settings.public_url, probe, settings)


def serve(
    app: ASGIApp, port: int = 0, lifespan: Literal["auto", "off"] = "auto", proxy_headers: bool = True
) -> Iterator[str]:
    """Serve any ASGI app with uvicorn on 127.0.0.1:`port` (0: any free port) in a thread.

    Yields the base URL; the socket is bound before the thread starts, so the port cannot be taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan=lifespan,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=1,
        proxy_headers=proxy_headers,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """One gateway for the whole session, keep-alives every 0.2 s so tests can see them."""
    yield from run_server(make_settings(free_port()), Probe(), keepalive_seconds=0.2)


@pytest.fixture
async def http(live_server: LiveServer) -> Any:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        yield client


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a test that did not run: fail the session rather than pass it off as green."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the whole session; tests that stop or pause it restore it."""
    from tests.redis_server import RedisServer  # it imports this module

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The test Redis, emptied, and running again if a previous test stopped or paused it."""
    redis_server.ensure_running()
    redis_server.flush()
    return redis_server.url
