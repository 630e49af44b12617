"""Scenario `profile`: where the gateway's CPU goes under the tools/call load, sampled by py-spy.

Runs the gateway as deployed, drives the same `tools/call` as the throughput scenario with wrk, and
has py-spy sample the gateway process for the whole measured run. Writes a flame graph (SVG) and
prints the functions with the most samples of their own, and those that include the most, so a
change to the hot path starts from data.
"""

from __future__ import annotations

import collections
import contextlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from tests.benchmarks.processes import Cores
from tests.benchmarks.targets import access_token, gateway, upstream
from tests.benchmarks.throughput import Target, check_answer, handshake_call
from tests.benchmarks.wrk import run_wrk

SAMPLES_PER_SECOND: Final = 250
TOP: Final = 25
_LOCATION = re.compile(r" \((?:.*/site-packages/|.*/(?=gateway/|oauth/|tools/|landing/))?([^)]*?)(?::\d+)?\)")


def _py_spy() -> str:
    path = Path(sys.executable).with_name("py-spy")
    if not path.exists():
        raise RuntimeError("py-spy is not installed: `bash scripts/install test` (scripts/bench does it)")
    return str(path)


def _frame(frame: str) -> str:
    """`function (path:line)` without the line and the site-packages prefix."""
    return _LOCATION.sub(lambda match: f" ({match.group(1)})", frame)


def summarise(collapsed: str) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """From py-spy's collapsed stacks: the top frames by own samples and by samples including callees."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(frame) for frame in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if total == 0:
        raise RuntimeError("py-spy recorded no samples (is ptrace allowed in this container?)")
    return (
        [(frame, 100 * count / total) for frame, count in own.most_common(TOP)],
        [(frame, 100 * count / total) for frame, count in inclusive.most_common(TOP)],
    )


def profile(cores: Cores, *, warmup: float, duration: float, connections: int, svg: Path) -> list[str]:
    """Sample the gateway under load; write the flame graph to `svg` and return the report's lines."""
    with contextlib.ExitStack() as stack:
        fake = stack.enter_context(upstream(cores))
        server = stack.enter_context(gateway(fake.url, cores))
        target = Target(
            "gateway", handshake_call(server.url, {"authorization": f"Bearer {access_token(server.url)}"})
        )
        check_answer(target)
        run_wrk(target.request, connections=connections, seconds=warmup, cpu=cores.load)
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        recordings = []
        for kind, output in (("flamegraph", svg), ("raw", scratch / "stacks.txt")):
            command = [
                _py_spy(),
                "record",
                f"--pid={server.process.pid}",
                f"--rate={SAMPLES_PER_SECOND}",
                f"--duration={max(1, round(duration))}",
                f"--format={kind}",
                f"--output={output}",
                "--nonblocking",
            ]
            recordings.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        result = run_wrk(target.request, connections=connections, seconds=duration, cpu=cores.load)
        for recording in recordings:
            _, errors = recording.communicate(timeout=60)
            if recording.returncode != 0:
                raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace').strip()}")
        own, inclusive = summarise((scratch / "stacks.txt").read_text())
    lines = [f"Profile of the gateway at {result.rps:,.0f} tools/call per second (flame graph: {svg})"]
    lines += ["Most samples of their own:", *(f"  {share:5.1f}%  {frame}" for frame, share in own)]
    lines += ["Most samples including callees:", *(f"  {share:5.1f}%  {frame}" for frame, share in inclusive)]
    return lines
