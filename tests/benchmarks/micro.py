"""Scenario 4: sealing and opening a token (µs, in this process), process start to the first `200` on
`/healthz` and to the first answered Bearer `tools/call`, and the import floor both are held to:
importing uvicorn, Starlette, pydantic and aiohttp alone, measured in the same run on the same core,
so the ratio holds on any machine."""

from __future__ import annotations

import compileall
import statistics
import subprocess
import time
import timeit
from collections.abc import Callable
from typing import Final

import httpx

from gateway.keys import ServerKeys, generate_secret_key
from gateway.settings import decode_secret_key
from oauth.sealing import Claims, Sealer, TokenType
from tests.benchmarks.processes import HOST, REPO, Cores, free_port, pinned_to, python_command, running
from tests.benchmarks.targets import gateway_command, gateway_environment
from tests.benchmarks.throughput import Target, check_answer, envelope_call
from tools.sandbox import SANDBOX_API_KEY

SEAL_ROUNDS: Final = 2000
START_RUNS: Final = 7
AUDIENCE: Final = "https://gateway.example/mcp"
# What the image's `pip install .` compiles to bytecode (pyproject.toml's packages).
PACKAGES: Final = ("gateway", "oauth", "tools", "landing")
# What any server built like this one must import before it can answer; prints its peak RSS in KiB
# (VmHWM: this program's own high-water mark; ru_maxrss would also count the forking parent's).
FLOOR_SCRIPT: Final = (
    "import uvicorn, starlette.applications, pydantic, aiohttp, pathlib; "
    "print(next(line.split()[1] for line in pathlib.Path('/proc/self/status').read_text().splitlines() "
    "if line.startswith('VmHWM:')))"
)


def _access_claims(sealer: Sealer, audience: str = AUDIENCE, key: str = "op-" + "k" * 32) -> Claims:
    return sealer.new_claims(
        TokenType.ACCESS,
        aud=audience,
        sub="0123456789abcdef",
        cid="client",
        scope=("messages:read", "messages:write", "contacts:read", "contacts:write", "calls:read"),
        key=key,
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


def _first_call(port: int, secret_key: str) -> Target:
    """A 2026-07-28 `tools/call` (no handshake to make first) with a Bearer sealed by the key of the
    server that will listen on `port`, as its token endpoint would seal it."""
    url = f"http://{HOST}:{port}"
    sealer = Sealer(ServerKeys((decode_secret_key(secret_key),)), url)
    token = sealer.seal(_access_claims(sealer, f"{url}/mcp", SANDBOX_API_KEY))
    return Target("first tools/call", envelope_call(url, {"authorization": f"Bearer {token}"}))


def _start_once(cores: Cores) -> tuple[float, float, float]:
    """Seconds from exec to the first 200 on /healthz and to the first answered Bearer tools/call, and
    the resident MiB of the process, idle, after that call (so what loads late is counted).

    The call, its token and its HTTP client are made before the exec: only the server's time counts.
    """
    secret_key, port = generate_secret_key(), free_port()
    call = _first_call(port, secret_key)
    command, environment = gateway_command(port, sandbox=True), gateway_environment(port, None)
    environment["SECRET_KEYS"] = secret_key
    with httpx.Client() as client:
        started = time.perf_counter()
        with running("gateway (start-up)", command, port, cpu=cores.server, env=environment) as server:
            healthz = time.perf_counter() - started
            check_answer(call, client)
            first_call = time.perf_counter() - started
            return healthz, first_call, server.info.memory_info().rss / 2**20


def _start_figures(runs: list[tuple[float, float, float]]) -> dict[str, float]:
    times = [healthz for healthz, _, _ in runs]
    calls = [first_call for _, first_call, _ in runs]
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "first_call_median_s": statistics.median(calls),
        "first_call_min_s": min(calls),
        "first_call_max_s": max(calls),
        "runs": len(times),
        "idle_rss_mib": statistics.median(rss for _, _, rss in runs),
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


def _floor_figures(runs: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "median_s": statistics.median(seconds for seconds, _ in runs),
        "peak_rss_mib": statistics.median(rss for _, rss in runs),
        "runs": len(runs),
    }


def start_and_floor(cores: Cores) -> dict[str, dict[str, float]]:
    """`start_to_first_200`: `openphone-mcp serve --sandbox` from exec to the first `200` on `/healthz`
    and to the first answered Bearer `tools/call` (s), and its idle RSS after that call (MiB).
    `import_floor`: exec to exit of a process importing uvicorn, Starlette, pydantic and aiohttp (s), and
    its peak RSS (MiB), the least any server built on them starts in.

    The runs alternate, so drift on a shared machine falls on both alike. The project's bytecode is
    compiled first, as `pip install` compiles it into the image (the libraries' already is).
    """
    for package in PACKAGES:
        compileall.compile_dir(REPO / package, quiet=1)
    starts: list[tuple[float, float, float]] = []
    floors: list[tuple[float, float]] = []
    for _ in range(START_RUNS):
        starts.append(_start_once(cores))
        floors.append(_floor_once(cores))
    return {"start_to_first_200": _start_figures(starts), "import_floor": _floor_figures(floors)}
