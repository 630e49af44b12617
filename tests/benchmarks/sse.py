"""Scenarios 2 and 3: the legacy HTTP+SSE transport.

* Round trip: `POST /messages` of a `tools/call` -> its answer on the stream, over many concurrent
  sessions, against the official SDK's SSE app calling the same fake OpenPhone.
* Idle capacity: thousands of open streams in one gateway process: resident memory per stream, the
  CPU their keep-alives cost, and whether every stream still answers a `ping`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any, Final

import aiohttp
import uvloop

from gateway.transports.streaming import KEEPALIVE_SECONDS
from tests.benchmarks.measure import LoadResult, alternating_rounds
from tests.benchmarks.processes import Cores, Server
from tests.benchmarks.sse_client import KeepAliveSSESession, SSESession
from tests.benchmarks.targets import access_token, gateway, peer, upstream
from tests.benchmarks.throughput import EXPECTED_IN_RESULT, TOOL

# How many streams are opened, or pings sent, at once while building up or checking a level.
CONCURRENCY: Final = 200


@contextlib.asynccontextmanager
async def http_client() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        yield http


def _answered(answer: dict[str, Any]) -> bool:
    result = answer.get("result")
    if not isinstance(result, dict) or result.get("isError") or not isinstance(result.get("content"), list):
        return False
    # The text blocks only: turning the whole result into a string cost the client more than parsing it.
    texts = (block.get("text") for block in result["content"] if isinstance(block, dict))
    return any(isinstance(text, str) and EXPECTED_IN_RESULT in text for text in texts)


async def round_trips(
    base_url: str,
    headers: dict[str, str],
    sessions: int,
    warmup: float,
    duration: float,
    post_url: str | None = None,
) -> LoadResult:
    """Each session posts a tools/call and waits for its answer on the stream, as fast as it can."""
    async with http_client() as http:
        clients = [KeepAliveSSESession(http, base_url, headers, post_url) for _ in range(sessions)]
        try:
            await asyncio.gather(*(client.open() for client in clients))
            await asyncio.gather(*(client.initialize() for client in clients))
            start = time.perf_counter() + warmup
            stop = start + duration
            latencies: list[float] = []
            errors = 0

            async def worker(client: SSESession) -> None:
                nonlocal errors
                while (sent := time.perf_counter()) < stop:
                    try:
                        ok = _answered(await client.request("tools/call", {"name": TOOL, "arguments": {}}))
                    except (aiohttp.ClientError, RuntimeError, TimeoutError):
                        ok = False
                    done = time.perf_counter()
                    if start <= done <= stop:
                        latencies.append(done - sent)
                        errors += not ok

            await asyncio.gather(*(worker(client) for client in clients))
        finally:
            await asyncio.gather(*(client.close() for client in clients))
    return LoadResult.from_latencies(latencies, duration, errors)


@dataclass(frozen=True)
class SSETarget:
    name: str
    url: str
    headers: dict[str, str]


def measure_round_trips(
    cores: Cores, *, rounds: int, warmup: float, duration: float, sessions: int
) -> dict[str, list[LoadResult]]:
    """The gateway's and the SDK's SSE round trip, per round."""
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(upstream(cores))
        proxied = stack.enter_context(gateway(fake.url, cores))
        sdk = stack.enter_context(peer("sdk-sse", fake.url, cores))
        bearer = {"authorization": f"Bearer {access_token(proxied.url)}"}
        chosen = [
            SSETarget("gateway legacy SSE", proxied.url, bearer),
            SSETarget("SDK legacy SSE", sdk.url, {}),
        ]

        def run(target: SSETarget) -> LoadResult:
            return uvloop.run(round_trips(target.url, target.headers, sessions, warmup, duration))

        return alternating_rounds(chosen, lambda target: target.name, run, rounds)


@dataclass(frozen=True)
class CapacityLevel:
    streams: int
    open_seconds: float
    rss_mib: float
    rss_kib_per_stream: float
    idle_seconds: float
    idle_cpu_percent: float
    cpu_us_per_keepalive: float
    keepalives_received: int
    pings_answered: int
    ping_seconds: float

    def line(self) -> str:
        return (
            f"{self.streams:>6} streams: {self.rss_kib_per_stream:5.1f} KiB each "
            f"(RSS {self.rss_mib:,.0f} MiB), "
            f"idle CPU {self.idle_cpu_percent:4.1f}% ({self.cpu_us_per_keepalive:.0f} µs per keep-alive), "
            f"pings answered {self.pings_answered}/{self.streams} in {self.ping_seconds:.1f} s"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _ping_all(clients: list[SSESession]) -> int:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def ping(client: SSESession) -> bool:
        async with gate:
            try:
                answer = await client.request("ping")
            except (aiohttp.ClientError, RuntimeError, TimeoutError):
                return False
            return answer.get("result") == {}

    return sum(await asyncio.gather(*(ping(client) for client in clients)))


async def _capacity(
    server: Server, headers: dict[str, str], levels: tuple[int, ...], idle_seconds: float
) -> list[CapacityLevel]:
    process = server.info
    measured: list[CapacityLevel] = []
    async with http_client() as http:
        clients: list[SSESession] = []
        # Warm the code paths (first stream, first ping) before the baseline is read.
        warm = SSESession(http, server.url, headers)
        await warm.open()
        await _ping_all([warm])
        await warm.close()
        await asyncio.sleep(1.0)
        baseline = process.memory_info().rss
        gate = asyncio.Semaphore(CONCURRENCY)

        async def open_one() -> SSESession:
            async with gate:
                client = SSESession(http, server.url, headers)
                await client.open()
                return client

        try:
            for level in levels:
                started = time.perf_counter()
                clients += await asyncio.gather(*(open_one() for _ in range(level - len(clients))))
                open_seconds = time.perf_counter() - started
                await asyncio.sleep(2.0)
                rss = process.memory_info().rss
                keepalives_before = sum(client.keepalives for client in clients)
                cpu_before = sum(process.cpu_times()[:2])
                await asyncio.sleep(idle_seconds)
                cpu_seconds = sum(process.cpu_times()[:2]) - cpu_before
                keepalives = sum(client.keepalives for client in clients) - keepalives_before
                ping_started = time.perf_counter()
                answered = await _ping_all(clients)
                result = CapacityLevel(
                    streams=level,
                    open_seconds=open_seconds,
                    rss_mib=rss / 2**20,
                    rss_kib_per_stream=(rss - baseline) / level / 1024,
                    idle_seconds=idle_seconds,
                    idle_cpu_percent=100 * cpu_seconds / idle_seconds,
                    cpu_us_per_keepalive=1e6 * cpu_seconds / max(1, keepalives),
                    keepalives_received=keepalives,
                    pings_answered=answered,
                    ping_seconds=time.perf_counter() - ping_started,
                )
                measured.append(result)
                print(f"  {result.line()}", flush=True)
        finally:
            await asyncio.gather(*(client.close() for client in clients))
    return measured


def measure_capacity(cores: Cores, *, levels: tuple[int, ...], idle_seconds: float) -> list[CapacityLevel]:
    """Open `levels` streams in turn on one fresh gateway; the idle window spans the keep-alive period."""
    with upstream(cores) as fake, gateway(fake.url, cores) as server:
        headers = {"authorization": f"Bearer {access_token(server.url)}"}
        return uvloop.run(_capacity(server, headers, levels, max(idle_seconds, 2 * KEEPALIVE_SECONDS)))
