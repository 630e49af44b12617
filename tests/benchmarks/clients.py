"""Scenario 5: which HTTP client the gateway should call OpenPhone with.

The bare endpoint (peers.py) makes its one upstream call through each candidate in turn: aiohttp,
httpx with its default transport, and httpx over aiohttp's transport (`httpx-aiohttp`). This is the
measurement that chose aiohttp for `tools/client.py`; it stays in the suite so the choice is re-checked
whenever the libraries move.
"""

from __future__ import annotations

import contextlib

from tests.benchmarks.measure import LoadResult, alternating_rounds
from tests.benchmarks.processes import Cores
from tests.benchmarks.serve import CLIENTS
from tests.benchmarks.targets import peer, upstream
from tests.benchmarks.throughput import Target, check_answer, handshake_call
from tests.benchmarks.wrk import run_wrk


def measure_clients(
    cores: Cores, *, rounds: int, warmup: float, duration: float, connections: int
) -> dict[str, list[LoadResult]]:
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(upstream(cores))
        chosen = []
        for client in CLIENTS:
            server = stack.enter_context(peer(f"bare-{client}", fake.url, cores))
            chosen.append(Target(f"bare endpoint, upstream via {client}", handshake_call(server.url, {})))
        for target in chosen:
            check_answer(target)

        def run(target: Target) -> LoadResult:
            run_wrk(target.request, connections=connections, seconds=warmup, cpu=cores.load)
            return run_wrk(target.request, connections=connections, seconds=duration, cpu=cores.load)

        return alternating_rounds(chosen, lambda target: target.name, run, rounds)
