"""The soak's verdict rests on its slope arithmetic: a steady climb reads as one, a plateau as flat."""

from __future__ import annotations

import pytest

from tests.benchmarks.soak import Sample, SoakResult, slope_mib_per_hour
from tests.benchmarks.soak_load import Slice


def _samples(rss_at: list[float]) -> list[Sample]:
    return [
        Sample(at=float(second), rss_mib=rss, fds=20, cpu_seconds=0.0) for second, rss in enumerate(rss_at)
    ]


def test_a_steady_climb_of_one_mib_a_minute_is_60_mib_an_hour() -> None:
    assert slope_mib_per_hour(_samples([100 + second / 60 for second in range(600)])) == pytest.approx(60)


def test_growth_that_levels_off_is_flat_over_the_last_half() -> None:
    """Growth in the first half (a cache filling to its cap) does not count against the last half."""
    rss = [100 + min(second, 200) / 10 for second in range(600)]
    result = SoakResult(
        variant="test",
        seconds=600,
        slice_seconds=60,
        samples=_samples(rss),
        slices=[Slice() for _ in range(10)],
        errors={},
        server_errors=0,
        lost_replies=0,
        unmatched_replies=0,
        fds_idle=20,
        fds_after=20,
        settle_seconds=0,
    )
    assert result.summary["slope_mib_per_hour"] > 0
    assert result.summary["last_half_slope_mib_per_hour"] == 0
    assert result.summary["plateau_mib"] == 120


def test_fewer_than_two_samples_have_no_slope() -> None:
    assert slope_mib_per_hour(_samples([100])) == 0
