"""Scenario `redis`: what sharing the state through Redis (`REDIS_URL`) costs, side by side.

* tools/call with a real Bearer, the gateway with its state in memory against the same gateway on
  Redis (a Bearer check never waits on Redis, so the two should be within about 10%);
* the legacy SSE round trip with the stream on one machine and every POST on another (through Redis
  pub/sub), against both on one machine in memory;
* how long a revocation on one machine takes to reach another: from `/revoke` answering to the first
  401 on the other machine, p50 and p99 over many sign-ins.

A real Debian redis-server runs on the load generator's core, without persistence.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import uvloop

from gateway.keys import generate_secret_key
from tests.benchmarks.measure import LoadResult, alternating_rounds
from tests.benchmarks.processes import Cores, Server
from tests.benchmarks.sse import round_trips
from tests.benchmarks.targets import access_token, gateway, upstream
from tests.benchmarks.throughput import Target, check_answer, handshake_call, initialize
from tests.benchmarks.wrk import run_wrk
from tests.oauth.flow import tokens_for
from tests.redis_server import RedisServer

REVOCATIONS: Final = 50
POLL_LIMIT_SECONDS: Final = 10.0


@contextlib.contextmanager
def redis(cores: Cores) -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(Path(workdir))
        server.start()
        try:
            server.pin(cores.load)
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def machines(fake_url: str, cores: Cores, redis_url: str, count: int) -> Iterator[list[Server]]:
    """`count` gateways sharing SECRET_KEYS, one public URL and one Redis."""
    with contextlib.ExitStack() as stack:
        # The revocation rows sign in many times from one address: no throttle in the way.
        shared = {"SECRET_KEYS": generate_secret_key(), "REDIS_URL": redis_url, "OAUTH_RATE_LIMIT": "100000"}
        first = stack.enter_context(gateway(fake_url, cores, name="gateway on Redis (A)", **shared))
        rest = [
            stack.enter_context(
                gateway(
                    fake_url,
                    cores,
                    name=f"gateway on Redis ({chr(66 + index)})",
                    PUBLIC_URL=first.url,
                    **shared,
                )
            )
            for index in range(count - 1)
        ]
        yield [first, *rest]


@dataclass(frozen=True)
class SSETarget:
    name: str
    url: str
    post_url: str
    headers: dict[str, str]


def measure(
    cores: Cores, *, rounds: int, warmup: float, duration: float, connections: int, sessions: int
) -> dict[str, Any]:
    """The three comparisons, as the report prints them."""
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(upstream(cores))
        store = stack.enter_context(redis(cores))
        memory = stack.enter_context(gateway(fake.url, cores, name="gateway in memory"))
        shared = stack.enter_context(machines(fake.url, cores, store.url, 2))
        memory_bearer = {"authorization": f"Bearer {access_token(memory.url)}"}
        shared_bearer = {"authorization": f"Bearer {access_token(shared[0].url)}"}
        for url, auth in ((memory.url, memory_bearer), (shared[0].url, shared_bearer)):
            initialize(url, auth)
        calls = [
            Target("tools/call, state in memory", handshake_call(memory.url, memory_bearer)),
            Target("tools/call, state on Redis", handshake_call(shared[0].url, shared_bearer)),
        ]
        for target in calls:
            check_answer(target)

        def load(target: Target) -> LoadResult:
            run_wrk(target.request, connections=connections, seconds=warmup, cpu=cores.load)
            return run_wrk(target.request, connections=connections, seconds=duration, cpu=cores.load)

        call_results = alternating_rounds(calls, lambda target: target.name, load, rounds)
        streams = [
            SSETarget("legacy SSE, one machine, in memory", memory.url, memory.url, memory_bearer),
            SSETarget(
                "legacy SSE, stream on A, POSTs on B (Redis)", shared[0].url, shared[1].url, shared_bearer
            ),
        ]

        def round_trip(target: SSETarget) -> LoadResult:
            return uvloop.run(
                round_trips(target.url, target.headers, sessions, warmup, duration, post_url=target.post_url)
            )

        sse_results = alternating_rounds(streams, lambda target: target.name, round_trip, rounds)
        propagation = uvloop.run(_revocation_propagation(shared[0].url, shared[1].url))
    return {"calls": call_results, "sse": sse_results, "revocation": propagation}


async def _revocation_propagation(revoking_url: str, checking_url: str) -> dict[str, float]:
    """Seconds from `/revoke` answering on one machine to the first 401 on the other, per sign-in."""
    delays: list[float] = []
    async with (
        httpx.AsyncClient(base_url=revoking_url, timeout=30) as web,
        httpx.AsyncClient(
            base_url=checking_url, headers={"host": urlsplit(revoking_url).netloc}, timeout=30
        ) as other,
    ):
        for _ in range(REVOCATIONS):
            client, tokens = await tokens_for(web)
            headers = {
                "authorization": f"Bearer {tokens['access_token']}",
                "accept": "application/json",
                "mcp-protocol-version": "2025-06-18",
            }
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            if (await other.post("/mcp", json=ping, headers=headers)).status_code != 200:
                raise RuntimeError("the other machine refused a fresh token")
            revoked = await web.post(
                "/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
            )
            if revoked.status_code != 200:
                raise RuntimeError(f"/revoke answered {revoked.status_code}")
            started = time.perf_counter()
            while (await other.post("/mcp", json=ping, headers=headers)).status_code != 401:
                if time.perf_counter() - started > POLL_LIMIT_SECONDS:
                    raise RuntimeError("a revocation did not reach the other machine")
            delays.append(time.perf_counter() - started)
    ordered = sorted(delays)
    return {
        "revocations": len(ordered),
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }
