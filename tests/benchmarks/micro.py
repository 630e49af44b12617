"""Scenario 4: sealing and opening a token (µs, in this process), process start to first `200`, and
the import floor it is held to: importing uvicorn, Starlette, pydantic and aiohttp alone, measured in
the same run on the same core, so the ratio holds on any machine."""

from __future__ import annotations

import statistics
import subprocess
import time
import timeit
from collections.abc import Callable
from typing import Final

from gateway.keys import ServerKeys, generate_secret_key
from gateway.settings import decode_secret_key
from oauth.sealing import Claims, Sealer, TokenType
from tests.benchmarks.processes import Cores, pinned_to, python_command
from tests.benchmarks.targets import gateway

SEAL_ROUNDS: Final = 2000
START_RUNS: Final = 7
AUDIENCE: Final = "https://gateway.example/mcp"
# What any server built like this one must import before it can answer; prints its peak RSS in KiB
# (VmHWM: this program's own high-water mark; ru_maxrss would also count the forking parent's).
FLOOR_SCRIPT: Final = (
    "import uvicorn, starlette.applications, pydantic, aiohttp, pathlib; "
    "print(next(line.split()[1] for line in pathlib.Path('/proc/self/status').read_text().splitlines() "
    "if line.startswith('VmHWM:')))"
)


def _access_claims(sealer: Sealer) -> Claims:
    return sealer.new_claims(
        TokenType.ACCESS,
        aud=AUDIENCE,
        sub="0123456789abcdef",
        cid="client",
        scope=("messages:read", "messages:write", "contacts:read", "contacts:write", "calls:read"),
        key="op-" + "k" * 32,
        lifetime=3600,
        fam="family",
    )


def _per_call_us(call: Callable[[], object], rounds: int = SEAL_ROUNDS) -> float:
    """The best of 5 timings of `rounds` calls, per call, in µs."""
    return min(timeit.repeat(call, number=rounds, repeat=5)) / rounds * 1e6


def sealing() -> dict[str, float]:
    """µs to seal an access token, to open one seen for the first time, and to open one seen before."""
    sealer = Sealer(ServerKeys((decode_secret_key(generate_secret_key()),)), "https://gateway.example")
    claims = _access_claims(sealer)
    seal_us = _per_call_us(lambda: sealer.seal(claims))
    # Distinct tokens, fewer than the sealer remembers, so each open below decrypts.
    fresh = [sealer.seal(_access_claims(sealer)) for _ in range(SEAL_ROUNDS)]
    first: list[float] = []
    for token in fresh:
        started = time.perf_counter()
        sealer.open(token, TokenType.ACCESS, AUDIENCE)
        first.append(time.perf_counter() - started)
    again_us = _per_call_us(lambda: sealer.open(fresh[0], TokenType.ACCESS, AUDIENCE))
    return {"seal_us": seal_us, "open_first_us": statistics.median(first) * 1e6, "open_again_us": again_us}


def _start_once(cores: Cores) -> tuple[float, float]:
    """Seconds from exec to the first 200, and the resident MiB of the process, idle, just after it."""
    started = time.perf_counter()
    with gateway(None, cores, name="gateway (start-up)") as server:
        seconds = time.perf_counter() - started
        return seconds, server.info.memory_info().rss / 2**20


def start_to_first_200(cores: Cores) -> dict[str, float]:
    """`openphone-mcp serve --sandbox` from exec to the first `200` on `/healthz`, over several runs (s),
    and its idle RSS then (MiB)."""
    runs = [_start_once(cores) for _ in range(START_RUNS)]
    times = [seconds for seconds, _ in runs]
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs": len(times),
        "idle_rss_mib": statistics.median(rss for _, rss in runs),
    }


def _floor_once(cores: Cores) -> tuple[float, float]:
    started = time.perf_counter()
    done = subprocess.run(
        python_command("-c", FLOOR_SCRIPT),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        preexec_fn=pinned_to(cores.server),
    )
    return time.perf_counter() - started, int(done.stdout) / 1024


def import_floor(cores: Cores) -> dict[str, float]:
    """Exec to exit of a process importing uvicorn, Starlette, pydantic and aiohttp (s), and its peak
    RSS (MiB): the least any server built on them starts in."""
    runs = [_floor_once(cores) for _ in range(START_RUNS)]
    return {
        "median_s": statistics.median(seconds for seconds, _ in runs),
        "peak_rss_mib": statistics.median(rss for _, rss in runs),
        "runs": len(runs),
    }
