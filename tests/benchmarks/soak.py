"""Scenario `soak` (only when named): one gateway under a long mixed load, watched for growth.

Runs `openphone-mcp serve` as deployed twice, first with the in-process sandbox as its OpenPhone and
then with the fake OpenPhone over HTTP, each for `duration` seconds under the load of soak_load.py.
Every second it reads the gateway's resident memory (RSS), open file descriptors and CPU time. It
reports the RSS slope (least squares, MiB per hour) over the whole run and over its last half, the
plateau (median RSS over the last half), the descriptors when idle before the load, at its end and
once it has stopped, requests/s per slice, and every error, lost reply and unmatched reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import psutil
import uvloop

from oauth.activity import FLUSH_INTERVAL_SECONDS
from tests.benchmarks.processes import Cores, Server
from tests.benchmarks.soak_load import Slice, Tally, connected_apps, first_grant, run_load
from tests.benchmarks.targets import gateway, upstream

SAMPLE_SECONDS: Final = 1.0
SLICES: Final = 10
# Pooled upstream connections close after aiohttp's 15 s keep-alive; the descriptors get this long.
SETTLE_SECONDS: Final = 60.0
ACTIVITY_FLUSH_SECONDS: Final = FLUSH_INTERVAL_SECONDS + 1
SANDBOX: Final = "in-process sandbox"
OVER_HTTP: Final = "fake OpenPhone over HTTP"


@dataclass(frozen=True)
class Sample:
    """One reading of the gateway process, `at` seconds into the load."""

    at: float
    rss_mib: float
    fds: int
    cpu_seconds: float


def slope_mib_per_hour(samples: list[Sample]) -> float:
    """The least-squares slope of RSS over time, in MiB per hour (0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    hours = [sample.at / 3600 for sample in samples]
    return statistics.linear_regression(hours, [sample.rss_mib for sample in samples]).slope


@dataclass
class SoakResult:
    variant: str
    seconds: float
    slice_seconds: float
    samples: list[Sample]
    slices: list[Slice]
    errors: dict[str, int]
    server_errors: int
    lost_replies: int
    unmatched_replies: int
    fds_idle: int
    fds_after: int
    settle_seconds: float
    # The Connected apps page after the load: its index and activity log stay within their bounds.
    connected_apps: dict[str, int] = field(default_factory=dict)
    summary: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        last_half = [sample for sample in self.samples if sample.at >= self.seconds / 2]
        self.summary = {
            "slope_mib_per_hour": slope_mib_per_hour(self.samples),
            "last_half_slope_mib_per_hour": slope_mib_per_hour(last_half),
            "plateau_mib": statistics.median(sample.rss_mib for sample in last_half) if last_half else 0.0,
            "first_mib": self.samples[0].rss_mib if self.samples else 0.0,
            "peak_mib": max((sample.rss_mib for sample in self.samples), default=0.0),
            "fds_peak": max((sample.fds for sample in self.samples), default=0),
            "fds_end": self.samples[-1].fds if self.samples else 0,
        }

    def slice_rows(self) -> list[dict[str, float]]:
        """Per slice: its end, requests/s of each kind, flows, refreshes, errors, RSS, fds and CPU."""
        rows = []
        previous_cpu = 0.0
        for index, done in enumerate(self.slices):
            end = (index + 1) * self.slice_seconds
            within = [sample for sample in self.samples if sample.at <= end] or self.samples[:1]
            last = within[-1] if within else Sample(end, 0.0, 0, 0.0)
            rows.append(
                {
                    "end_s": end,
                    "calls_per_s": done.calls / self.slice_seconds,
                    "sse_replies_per_s": done.sse_replies / self.slice_seconds,
                    "flows": done.flows,
                    "refreshes": done.refreshes,
                    "writes_per_s": done.writes / self.slice_seconds,
                    "errors": done.errors,
                    "rss_mib": last.rss_mib,
                    "fds": last.fds,
                    "cpu_percent": 100 * (last.cpu_seconds - previous_cpu) / self.slice_seconds,
                }
            )
            previous_cpu = last.cpu_seconds
        return rows

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"slices": self.slice_rows()}


def _read(process: psutil.Process, started: float, cpu_before: float) -> Sample:
    cpu = process.cpu_times()
    return Sample(
        time.monotonic() - started,
        process.memory_info().rss / 2**20,
        process.num_fds(),
        cpu.user + cpu.system - cpu_before,
    )


async def _sample(process: psutil.Process, tally: Tally, stop: float, samples: list[Sample]) -> None:
    cpu = process.cpu_times()
    cpu_before = cpu.user + cpu.system
    while (now := time.monotonic()) < stop:
        await asyncio.sleep(min(SAMPLE_SECONDS, stop - now))
        samples.append(_read(process, tally.started, cpu_before))


async def _settle(process: psutil.Process, idle: int) -> tuple[int, float]:
    """Wait (bounded) for the descriptors to return to the idle count; the count and the wait."""
    started = time.monotonic()
    for _ in range(round(SETTLE_SECONDS / SAMPLE_SECONDS)):
        if process.num_fds() <= idle:
            break
        await asyncio.sleep(SAMPLE_SECONDS)
    return process.num_fds(), time.monotonic() - started


async def _soak(variant: str, server: Server, seconds: float) -> SoakResult:
    process = server.info
    fds_idle = process.num_fds()
    grant = await first_grant(server.url)
    tally = Tally.over(seconds, SLICES)
    stop = tally.started + seconds
    samples: list[Sample] = []
    sampler = asyncio.create_task(_sample(process, tally, stop, samples))
    await run_load(server.url, grant, tally, stop, writes=variant == SANDBOX)
    await sampler
    fds_after, settle_seconds = await _settle(process, fds_idle)
    # The activity log is written every 5 s in the background: wait out one flush.
    await asyncio.sleep(ACTIVITY_FLUSH_SECONDS)
    connected = await connected_apps(server.url)
    return SoakResult(
        variant=variant,
        seconds=seconds,
        slice_seconds=tally.slice_seconds,
        samples=samples,
        slices=tally.slices,
        errors=dict(tally.errors),
        server_errors=tally.server_errors,
        lost_replies=tally.lost_replies,
        unmatched_replies=tally.unmatched_replies,
        fds_idle=fds_idle,
        fds_after=fds_after,
        settle_seconds=settle_seconds,
        connected_apps=connected,
    )


@contextlib.contextmanager
def _gateway_for(variant: str, cores: Cores) -> Iterator[Server]:
    if variant == SANDBOX:
        with gateway(None, cores, name=f"gateway ({SANDBOX})") as server:
            yield server
        return
    with upstream(cores) as fake, gateway(fake.url, cores, name=f"gateway ({OVER_HTTP})") as server:
        yield server


def measure_soak(cores: Cores, *, seconds: float) -> list[SoakResult]:
    """Each variant in turn on a fresh gateway, under the mixed load for `seconds`."""
    results = []
    for variant in (SANDBOX, OVER_HTTP):
        print(f"  {variant}: {seconds:g} s", flush=True)
        with _gateway_for(variant, cores) as server:
            result = uvloop.run(_soak(variant, server, seconds))
        results.append(result)
        slope = result.summary["last_half_slope_mib_per_hour"]
        print(
            f"  {variant}: RSS slope {slope:+.1f} MiB/h over the last half, "
            f"fds {result.fds_idle} idle -> {result.fds_after} after, {sum(result.errors.values())} errors, "
            f"connected apps page {result.connected_apps}",
            flush=True,
        )
    return results
