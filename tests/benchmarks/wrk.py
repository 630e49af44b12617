"""Drive HTTP load with `wrk` (Debian's package) from its own process, and read its figures as JSON.

wrk keeps `connections` keep-alive connections busy, each sending the next request as soon as the last
is answered, and measures latency with a corrected histogram. A Lua script sets the request and, when
the run ends, prints the summary as one JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.measure import LoadResult
from tests.benchmarks.processes import pinned_to

_MARKER = "WRK-RESULT "
_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    "MARKER", summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
""".replace("MARKER", _MARKER)


@dataclass(frozen=True)
class HTTPRequest:
    """One request, sent over and over."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: `apt-get install wrk` (scripts/bench does it)")
    return path


def _lua_string(value: str | bytes) -> str:
    text = value.decode() if isinstance(value, bytes) else value
    level = "=" * 4
    if f"]{level}]" in text:
        raise ValueError("the value closes the Lua long bracket")
    return f"[{level}[{text}]{level}]"


def _script(request: HTTPRequest) -> str:
    lines = [f"wrk.method = {_lua_string(request.method)}", f"wrk.body = {_lua_string(request.body)}"]
    lines += [f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in request.headers.items()]
    return "\n".join(lines) + "\n" + _DONE


def run_wrk(request: HTTPRequest, *, connections: int, seconds: float, cpu: int | None) -> LoadResult:
    """Load `request` for `seconds` over `connections` connections (one wrk thread, pinned to `cpu`)."""
    with tempfile.TemporaryDirectory() as scratch:
        script = Path(scratch, "request.lua")
        script.write_text(_script(request))
        os.chmod(script, 0o600)  # it holds the benchmark's Bearer token
        command = [
            wrk_path(),
            "--threads=1",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=10s",
            f"--script={script}",
            request.url,
        ]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=pinned_to(cpu),
        )
    line = next((row for row in completed.stdout.splitlines() if row.startswith(_MARKER)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(line.removeprefix(_MARKER))
    errors = sum(figures[kind] for kind in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=errors,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
    )
