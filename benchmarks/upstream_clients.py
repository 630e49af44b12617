"""Throughput of a Starlette endpoint that makes one pooled upstream GET per request, by upstream client.

Run from the repository root:

    .venv/bin/python benchmarks/upstream_clients.py [--warmup 3] [--duration 8] [--connections 32]

Everything stays on loopback. The script starts:

* an upstream: uvicorn serving a bare ASGI app that answers every request with the same ~300-byte JSON;
* for each client variant in turn, a gateway-like app: uvicorn (uvloop, httptools, log level warning)
  serving a Starlette route ``GET /`` that makes one GET to the upstream through a client opened once in
  the lifespan (so connections are pooled and kept alive) and returns the upstream body;
* a load generator in this process: aiohttp on uvloop, ``--connections`` keep-alive connections each
  sending one request at a time for ``--warmup`` seconds (discarded) and then ``--duration`` seconds.

The variants are (1) ``httpx.AsyncClient`` with its default transport, (2) ``httpx.AsyncClient`` with
``httpx_aiohttp.AiohttpTransport``, (3) ``aiohttp.ClientSession`` used directly. All three get the same
pool of up to 100 connections, all of which may stay alive (httpx's default keeps only 20 alive, which would
churn connections at 32 concurrent requests). It prints requests/s, p50/p99 latency as seen by the load
generator, and each variant's throughput relative to httpx's default transport.

On Linux with at least 2 usable CPUs the gateway is pinned to the first and the upstream and load
generator to the second, so the gateway under test has a core to itself. The servers are this same file
run with ``--serve``; they are stopped when the script ends, however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import uvicorn
import uvloop
from httpx_aiohttp import AiohttpTransport
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CLIENTS = ("httpx", "httpx+aiohttp-transport", "aiohttp")
POOL_SIZE = 100
HOST = "127.0.0.1"
PAYLOAD = json.dumps(
    {
        "id": "AC123456789abcdef",
        "object": "message",
        "from": "+15555550100",
        "to": ["+15555550123"],
        "direction": "outgoing",
        "status": "delivered",
        "text": "Hello from the upstream benchmark server. " * 2,
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:01.000Z",
    },
    separators=(",", ":"),
).encode()

Fetch = Callable[[], Awaitable[tuple[int, bytes]]]


# --- servers (run in subprocesses via --serve) -------------------------------------------------------


async def upstream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(PAYLOAD)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PAYLOAD})


@contextlib.asynccontextmanager
async def open_fetch(client: str, url: str) -> AsyncIterator[Fetch]:
    """A function that GETs ``url`` through a pooled client of the given kind, open for the block."""
    if client == "aiohttp":
        connector = aiohttp.TCPConnector(limit=POOL_SIZE)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def fetch_aiohttp() -> tuple[int, bytes]:
                async with session.get(url) as response:
                    return response.status, await response.read()

            yield fetch_aiohttp
        return

    limits = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)
    transport = AiohttpTransport(limits=limits) if client == "httpx+aiohttp-transport" else None
    async with httpx.AsyncClient(limits=limits, transport=transport) as http:

        async def fetch_httpx() -> tuple[int, bytes]:
            response = await http.get(url)
            return response.status_code, response.content

        yield fetch_httpx


def gateway_app(client: str, upstream_url: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_fetch(client, upstream_url) as fetch:
            app.state.fetch = fetch
            yield

    async def proxy(request: Request) -> Response:
        status, body = await request.app.state.fetch()
        return Response(body, status_code=status, media_type="application/json")

    return Starlette(routes=[Route("/", proxy)], lifespan=lifespan)


def serve(role: str, port: int, upstream_url: str | None) -> None:
    app = upstream_app if role == "upstream" else gateway_app(role, upstream_url or "")
    uvicorn.run(app, host=HOST, port=port, loop="uvloop", http="httptools", log_level="warning")


# --- orchestration ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the benchmark process dies, even by SIGKILL (Linux)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@contextlib.contextmanager
def server(role: str, port: int, cpu: int | None, upstream_url: str = "") -> Iterator[str]:
    """Run this file with ``--serve role`` on ``port`` for the block; yields its base URL."""
    args = [sys.executable, os.path.abspath(__file__), "--serve", role, "--port", str(port)]
    proc = subprocess.Popen([*args, "--upstream", upstream_url], preexec_fn=die_with_parent)  # noqa: S603
    try:
        if cpu is not None:
            os.sched_setaffinity(proc.pid, {cpu})
        yield f"http://{HOST}:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    async with asyncio.timeout(15):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as response:
                    await response.read()
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)


@dataclass
class Result:
    client: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def load(client: str, url: str, connections: int, warmup: float, duration: float) -> Result:
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_ready(session, url)
        start = time.perf_counter() + warmup
        stop = start + duration
        latencies: list[float] = []
        errors = 0

        async def worker() -> None:
            nonlocal errors
            while (sent := time.perf_counter()) < stop:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        ok = response.status == 200
                except aiohttp.ClientError:
                    ok = False
                done = time.perf_counter()
                if start <= done <= stop:  # count what completes inside the measured window
                    latencies.append(done - sent)
                    errors += not ok

        await asyncio.gather(*(worker() for _ in range(connections)))
    return Result(client, len(latencies), errors, duration, latencies)


async def run(connections: int, warmup: float, duration: float) -> list[Result]:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    gateway_cpu, other_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    if other_cpu is not None:
        os.sched_setaffinity(0, {other_cpu})
    results = []
    with server("upstream", free_port(), other_cpu) as upstream_url:
        for client in CLIENTS:
            with server(client, free_port(), gateway_cpu, upstream_url) as url:
                results.append(await load(client, url, connections, warmup, duration))
    return results


def report(results: list[Result], connections: int, warmup: float, duration: float) -> None:
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {connections} connections, "
        f"{warmup:g} s warm-up + {duration:g} s measured, upstream body {len(PAYLOAD)} bytes"
    )
    baseline = results[0].rps
    header = f"{'client':<26}{'requests/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'vs httpx':>10}{'errors':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.client:<26}{r.rps:>11,.0f}{r.percentile_ms(50):>9.2f}{r.percentile_ms(99):>9.2f}"
            f"{r.rps / baseline:>9.2f}x{r.errors:>8}"
        )
    if importlib.util.find_spec("sniffio") is None:
        # httpcore 1.0.x retries `import sniffio` on every lock/event setup; anyio >= 4.11 no longer
        # installs it, and failed imports are not cached (encode/httpcore#1103).
        print("note: sniffio is not installed, which slows httpx's default transport (encode/httpcore#1103)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--serve", choices=("upstream", *CLIENTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.upstream)
        return
    # Turn SIGTERM into SystemExit so the servers' context managers stop them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    results = uvloop.run(run(args.connections, args.warmup, args.duration))
    report(results, args.connections, args.warmup, args.duration)


if __name__ == "__main__":
    main()
