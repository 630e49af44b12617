"""Several real gateway processes sharing one Redis, as several Fly Machines behind one URL.

Each gateway is `python -m gateway serve` on its own loopback port, all with the same SECRET_KEYS,
PUBLIC_URL and REDIS_URL; a test picks the machine by port, as Fly's proxy would, and sends
PUBLIC_URL's host as the proxy forwards it. OpenPhone is the
sandbox served over real HTTP in this process, wrapped so the tests see when each request arrived.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import anyio
import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import TEST_SECRET_KEY, free_port, serve
from tools.sandbox import SandboxState, create_sandbox_app

START_TIMEOUT_SECONDS: Final = 20


class RecordingUpstream:
    """The sandbox, noting each request's path and arrival time (monotonic), and stalling paths on demand."""

    def __init__(self) -> None:
        self.state = SandboxState()
        self._app: ASGIApp = create_sandbox_app(self.state)
        self.arrivals: list[tuple[str, float]] = []
        self.stalled: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.arrivals.append((scope["path"], time.monotonic()))
            delay = self.stalled.get(scope["path"])
            if delay:
                await anyio.sleep(delay)
        await self._app(scope, receive, send)


@dataclass
class Gateway:
    """One gateway process."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve"], env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway {self.name} exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway {self.name} was not ready within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.05)

    def errors(self) -> list[str]:
        """The ERROR lines this machine logged (a 500 always logs one)."""
        return [line for line in self.log.read_text().splitlines() if '"level":"ERROR"' in line]

    def kill(self) -> None:
        """SIGKILL: the machine dies with its streams."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass
class Cluster:
    """The gateways, the upstream they share, and the public URL they all answer as."""

    gateways: list[Gateway]
    upstream: RecordingUpstream
    public_url: str
    settings: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, index: int) -> Gateway:
        return self.gateways[index]

    @property
    def host(self) -> dict[str, str]:
        """The `Host` a load balancer forwards to every machine: PUBLIC_URL's (the only one answered)."""
        return {"host": self.public_url.removeprefix("http://")}

    @asynccontextmanager
    async def clients(self, request_seconds: float = 10) -> AsyncIterator[list[httpx.AsyncClient]]:
        """One browser-like client per machine (cookies kept, redirects not followed)."""
        clients = [
            httpx.AsyncClient(base_url=gateway.url, headers=self.host, timeout=request_seconds)
            for gateway in self.gateways
        ]
        try:
            yield clients
        finally:
            for client in clients:
                await client.aclose()


@contextmanager
def cluster(redis_url: str, logs: Path, machines: int = 3, **settings: str) -> Iterator[Cluster]:
    """`machines` gateways on one Redis and one recording sandbox upstream, stopped afterwards.

    Each machine's log goes to `logs`; a machine that logged an error fails the block at its end.
    """
    upstream = RecordingUpstream()
    ports = [free_port() for _ in range(machines)]
    public_url = f"http://127.0.0.1:{ports[0]}"
    for upstream_url in serve(upstream):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SECRET_KEYS": TEST_SECRET_KEY,
            "PUBLIC_URL": public_url,
            "REDIS_URL": redis_url,
            "OPENPHONE_API_BASE": upstream_url,
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
            **settings,
        }
        gateways = [
            Gateway(f"m{index + 1}", port, {**env, "PORT": str(port)}, logs / f"m{index + 1}.log")
            for index, port in enumerate(ports)
        ]
        try:
            for gateway in gateways:
                gateway.start()
            yield Cluster(gateways, upstream, public_url, settings)
        finally:
            for gateway in gateways:
                gateway.stop()
        assert {gateway.name: gateway.errors() for gateway in gateways} == {
            gateway.name: [] for gateway in gateways
        }


@contextmanager
def lone_gateway(logs: Path, **settings: str) -> Iterator[Gateway]:
    """One gateway process without Redis (in-memory state), its OpenPhone the sandbox served here;
    it must log no error."""
    port = free_port()
    for upstream_url in serve(create_sandbox_app()):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "SECRET_KEYS": TEST_SECRET_KEY,
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "OPENPHONE_API_BASE": upstream_url,
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            **settings,
        }
        gateway = Gateway("lone", port, env, logs / "lone.log")
        try:
            gateway.start()
            yield gateway
        finally:
            gateway.stop()
        assert gateway.errors() == []
