"""What a load run yields, and the alternating rounds every side-by-side comparison runs in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True)
class LoadResult:
    """One measured run: completed requests, failures, and latency percentiles in milliseconds."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @classmethod
    def from_latencies(cls, latencies: Sequence[float], seconds: float, errors: int) -> LoadResult:
        """From each request's latency in seconds."""
        ordered = sorted(latencies) or [0.0]

        def percentile(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

        return cls(
            len(latencies),
            seconds,
            errors,
            percentile(50),
            percentile(90),
            percentile(99),
            ordered[-1] * 1000,
        )

    def line(self) -> str:
        return (
            f"{self.rps:>9,.0f}/s  p50 {self.p50_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  errors {self.errors}"
        )


T = TypeVar("T")


def alternating_rounds(
    targets: Sequence[T], name: Callable[[T], str], run: Callable[[T], LoadResult], rounds: int
) -> dict[str, list[LoadResult]]:
    """Run every target once per round, in forward then reverse order, so drift falls on all alike."""
    results: dict[str, list[LoadResult]] = {name(target): [] for target in targets}
    for number in range(rounds):
        order = targets if number % 2 == 0 else list(reversed(targets))
        for target in order:
            result = run(target)
            results[name(target)].append(result)
            print(f"  round {number + 1}  {name(target):<46}{result.line()}", flush=True)
    return results
