"""Starting the things a benchmark measures: the gateway (the real `serve` command), the peers, the
fake upstream, and a real OAuth access token for the gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Final

import httpx

from gateway.keys import generate_secret_key
from tests.benchmarks.processes import Cores, Server, free_port, python_command, running
from tests.oauth.flow import tokens_for

HANDSHAKE_REVISION: Final = "2025-06-18"
ENVELOPE_REVISION: Final = "2026-07-28"


@contextlib.contextmanager
def upstream(cores: Cores) -> Iterator[Server]:
    """The fake OpenPhone, on the load generator's core, so the server under test has its own."""
    port = free_port()
    command = python_command("-m", "tests.benchmarks.serve", "upstream", "--port", str(port))
    with running("fake OpenPhone", command, port, cpu=cores.load, ready_path=None) as server:
        yield server


@contextlib.contextmanager
def peer(role: str, upstream_url: str, cores: Cores) -> Iterator[Server]:
    """An `sdk`, `sdk-sse` or `bare` peer (see peers.py) calling `upstream_url`."""
    port = free_port()
    command = python_command(
        "-m", "tests.benchmarks.serve", role, "--port", str(port), "--upstream", upstream_url
    )
    with running(role, command, port, cpu=cores.server, ready_path=None) as server:
        yield server


def gateway_environment(port: int, upstream_url: str | None) -> dict[str, str]:
    """A production configuration on loopback; `upstream_url` None means the in-process sandbox."""
    env = {
        "GATEWAY_ENV": "production",
        "SECRET_KEYS": generate_secret_key(),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "OPENPHONE_RATE_LIMIT": "0",
    }
    if upstream_url is not None:
        env["OPENPHONE_API_BASE"] = upstream_url
    return env


def gateway_command(port: int, sandbox: bool) -> list[str]:
    return python_command("-m", "gateway", "serve", "--port", str(port), *(["--sandbox"] if sandbox else []))


@contextlib.contextmanager
def gateway(
    upstream_url: str | None, cores: Cores, name: str = "gateway", **settings: str
) -> Iterator[Server]:
    """`openphone-mcp serve`, exactly as deployed, with OpenPhone at `upstream_url` (None: sandbox).

    `settings` are more environment variables (`LOG_LEVEL="WARNING"`).
    """
    port = free_port()
    env = gateway_environment(port, upstream_url) | settings
    with running(
        name, gateway_command(port, upstream_url is None), port, cpu=cores.server, env=env
    ) as server:
        yield server


def access_token(server_url: str) -> str:
    """A real sealed access token: register, consent with the sandbox key, exchange the code."""

    async def flow() -> str:
        async with httpx.AsyncClient(base_url=server_url, timeout=30) as web:
            _, tokens = await tokens_for(web)
        token: str = tokens["access_token"]
        return token

    return asyncio.run(flow())
