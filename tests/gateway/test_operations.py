"""What an operator relies on: health, readiness, metrics, and a graceful drain on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from gateway.app import create_app
from gateway.keys import generate_secret_key
from tests.conftest import LiveServer, free_port, make_settings, serve
from tests.toolkit import Probe
from tools.sandbox import SANDBOX_API_KEY, SandboxState, create_sandbox_app

pytestmark = pytest.mark.anyio

METRICS_TOKEN = "metrics-token-0123456789abcdef"
GATEWAY = Path(sys.executable).parent / "openphone-mcp"


@pytest.fixture(scope="module")
def ops_server() -> Iterator[LiveServer]:
    settings = make_settings(free_port(), sandbox=True, metrics_token=METRICS_TOKEN)
    for _ in serve(create_app(settings), settings.port):
        yield LiveServer(settings.public_url, Probe(), settings)


async def test_healthz_is_cheap_and_uncached(ops_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=ops_server.url) as web:
        response = await web.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_reports_each_dependency(ops_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=ops_server.url) as web:
        response = await web.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"store": True, "openphone_client": True, "serving": True},
    }


async def test_metrics_are_404_without_a_token_configured(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as web:
        response = await web.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {METRICS_TOKEN}"])
async def test_metrics_need_the_exact_bearer(ops_server: LiveServer, authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(base_url=ops_server.url) as web:
        response = await web.get("/metrics", headers=headers)
    assert response.status_code == 401


async def test_metrics_count_requests_tools_upstream_streams_and_tokens(ops_server: LiveServer) -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list-phone-numbers", "arguments": {}},
    }
    key = {"x-openphone-api-key": SANDBOX_API_KEY, "accept": "application/json"}
    async with httpx.AsyncClient(base_url=ops_server.url, timeout=10) as web:
        assert (await web.post("/mcp", json=call, headers=key)).status_code == 200
        assert (
            await web.post("/mcp", json=call, headers={"authorization": "Bearer forged"})
        ).status_code == 401
        async with web.stream("GET", "/sse", headers={"x-openphone-api-key": SANDBOX_API_KEY}) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data:"):
                    break
            text = (await web.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})).text
    assert 'gateway_http_requests_total{route="/mcp",status="200"}' in text
    assert 'gateway_http_requests_total{route="/mcp",status="401"}' in text
    assert 'gateway_tool_calls_total{outcome="ok",tool="list-phone-numbers"}' in text
    assert 'gateway_upstream_request_seconds_count{method="GET",status="200"}' in text
    assert 'gateway_token_verifications_total{result="malformed"}' in text
    assert "gateway_sse_streams_open 1.0" in text


# SIGTERM on a real process ---------------------------------------------------------------------------


async def test_sigterm_lets_a_tool_call_finish_ends_sse_streams_and_exits() -> None:
    upstream = SandboxState()
    upstream.faults.latency = 2.0
    for upstream_url in serve(create_sandbox_app(upstream), free_port()):
        port = free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SECRET_KEYS": generate_secret_key(),
            "OPENPHONE_API_BASE": upstream_url,
            "OPENPHONE_RATE_LIMIT": "0",
        }
        process = subprocess.Popen(  # noqa: ASYNC220 - started once; the test then polls it
            [str(GATEWAY), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            await drain_while_busy(f"http://127.0.0.1:{port}", process)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            if process.stderr is not None:
                process.stderr.close()


async def drain_while_busy(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as web:
        deadline = time.monotonic() + 15
        while True:
            try:
                if (await web.get("/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the gateway did not start"
            await anyio.sleep(0.1)
        ended: list[str] = []
        answer: list[httpx.Response] = []

        async def hold_stream(name: str) -> None:
            async with web.stream("GET", "/sse", headers={"x-openphone-api-key": SANDBOX_API_KEY}) as stream:
                async for _ in stream.aiter_lines():
                    pass
            ended.append(name)

        async def call_tool() -> None:
            call = {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "tools/call",
                "params": {"name": "list-phone-numbers", "arguments": {}},
            }
            headers = {"x-openphone-api-key": SANDBOX_API_KEY, "accept": "application/json"}
            answer.append(await web.post("/mcp", json=call, headers=headers))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for name in ("a", "b", "c"):
                    group.start_soon(hold_stream, name)
                group.start_soon(call_tool)
                await anyio.sleep(0.7)
                process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            # The process is not an anyio object; polling its exit is the portable way to wait for it.
            while process.poll() is None:  # noqa: ASYNC110
                await anyio.sleep(0.05)
    assert sorted(ended) == ["a", "b", "c"]
    (response,) = answer
    assert response.status_code == 200
    assert response.json()["result"]["isError"] is False
    assert process.returncode in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 25
