"""Per-key request spacing under OpenPhone's 10 requests/second limit (`tools/rate_limit.py`)."""

from __future__ import annotations

import itertools
import math
import time

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.errors import OpenPhoneError
from tools.rate_limit import HEADROOM, KeyedRateLimiter

pytestmark = pytest.mark.anyio

# Slot arithmetic is float addition, so two starts may differ from 1/rate by a rounding error.
EPSILON = 1e-9
# At 10 requests/second, with the 10% headroom that absorbs network jitter.
INTERVAL = HEADROOM / 10
KEYS = st.sampled_from(["op-key-a", "op-key-b", "op-key-c"])
EVENTS = st.lists(st.tuples(KEYS, st.floats(min_value=0.0, max_value=0.5)), max_size=60)
RATES = st.floats(min_value=0.5, max_value=100.0)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _schedule(limiter: KeyedRateLimiter, clock: FakeClock, events: list[tuple[str, float]]) -> list[float]:
    """The start time of each request: each event advances the clock, then reserves for its key."""
    starts = []
    for key, advance in events:
        clock.now += advance
        starts.append(clock.now + limiter.reserve(key))
    return starts


def test_the_first_request_of_a_key_starts_at_once() -> None:
    limiter = KeyedRateLimiter(10, clock=FakeClock())
    assert limiter.reserve("op-key-a") == 0.0


def test_a_second_request_at_the_same_instant_waits_one_interval() -> None:
    limiter = KeyedRateLimiter(10, clock=FakeClock())
    limiter.reserve("op-key-a")
    assert limiter.reserve("op-key-a") == pytest.approx(INTERVAL)


def test_a_burst_is_spaced_rather_than_let_through() -> None:
    limiter = KeyedRateLimiter(10, clock=FakeClock())
    waits = [limiter.reserve("op-key-a") for _ in range(12)]
    assert waits == pytest.approx([i * INTERVAL for i in range(12)])


def test_a_request_after_the_interval_has_passed_does_not_wait() -> None:
    clock = FakeClock()
    limiter = KeyedRateLimiter(10, clock=clock)
    limiter.reserve("op-key-a")
    clock.now += 0.25
    assert limiter.reserve("op-key-a") == 0.0


def test_idle_time_is_not_banked_into_a_later_burst() -> None:
    clock = FakeClock()
    limiter = KeyedRateLimiter(10, clock=clock)
    limiter.reserve("op-key-a")
    clock.now += 60.0
    assert [limiter.reserve("op-key-a") for _ in range(3)] == pytest.approx([0.0, INTERVAL, 2 * INTERVAL])


def test_another_key_is_not_delayed_by_a_busy_key() -> None:
    limiter = KeyedRateLimiter(10, clock=FakeClock())
    for _ in range(5):
        limiter.reserve("op-key-a")
    assert limiter.reserve("op-key-b") == 0.0


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_a_non_positive_rate_disables_the_limiter(rate: float) -> None:
    limiter = KeyedRateLimiter(rate, clock=FakeClock())
    assert limiter.enabled is False
    assert [limiter.reserve("op-key-a") for _ in range(20)] == [0.0] * 20


def test_a_positive_rate_enables_the_limiter() -> None:
    assert KeyedRateLimiter(10).enabled is True


def test_spacing_still_holds_after_the_table_is_pruned() -> None:
    clock = FakeClock()
    limiter = KeyedRateLimiter(10, clock=clock)
    for i in range(5000):
        limiter.reserve(f"op-key-{i}")
    clock.now += 0.05
    assert limiter.reserve("op-key-0") == pytest.approx(INTERVAL - 0.05)
    clock.now += 1.0
    assert limiter.reserve("op-key-1") == 0.0


@given(rate=RATES, events=EVENTS)
def test_two_requests_of_one_key_never_start_closer_than_one_interval(
    rate: float, events: list[tuple[str, float]]
) -> None:
    clock = FakeClock()
    starts = _schedule(KeyedRateLimiter(rate, clock=clock, max_wait=math.inf), clock, events)
    by_key: dict[str, list[float]] = {}
    for (key, _), start in zip(events, starts, strict=True):
        by_key.setdefault(key, []).append(start)
    for key_starts in by_key.values():
        for earlier, later in itertools.pairwise(key_starts):
            assert later - earlier >= HEADROOM / rate - EPSILON


@given(rate=RATES, events=EVENTS)
def test_a_request_never_waits_longer_than_its_own_key_requires(
    rate: float, events: list[tuple[str, float]]
) -> None:
    """Each key is scheduled exactly as if it were the only key: keys never delay each other."""
    clock = FakeClock()
    shared = _schedule(KeyedRateLimiter(rate, clock=clock, max_wait=math.inf), clock, events)
    for key in {key for key, _ in events}:
        own_clock = FakeClock()
        own_limiter = KeyedRateLimiter(rate, clock=own_clock, max_wait=math.inf)
        for (event_key, advance), start in zip(events, shared, strict=True):
            own_clock.now += advance
            if event_key == key:
                assert own_clock.now + own_limiter.reserve(key) == start


@given(events=EVENTS)
def test_rate_zero_never_delays_anything(events: list[tuple[str, float]]) -> None:
    clock = FakeClock()
    limiter = KeyedRateLimiter(0, clock=clock)
    for key, advance in events:
        clock.now += advance
        assert limiter.reserve(key) == 0.0


async def test_acquire_sleeps_until_the_keys_next_slot() -> None:
    limiter = KeyedRateLimiter(20)
    started = time.monotonic()
    for _ in range(3):
        await limiter.acquire("op-key-a")
    assert time.monotonic() - started >= 0.1 - 0.005


def test_a_call_whose_slot_is_beyond_the_longest_wait_is_refused_and_claims_nothing() -> None:
    """Review 2026-12-07 #5: one key parks at most `max_wait` seconds' worth of calls."""
    clock = FakeClock()
    limiter = KeyedRateLimiter(10, clock=clock, max_wait=0.25)
    assert [limiter.reserve("op-key") for _ in range(3)] == pytest.approx([0, INTERVAL, 2 * INTERVAL])
    with pytest.raises(OpenPhoneError) as refused:
        limiter.reserve("op-key")
    assert (refused.value.status, str(refused.value)) == (
        429,
        "Too many calls with this key are waiting for their turn under OpenPhone's per-key rate limit. "
        "Wait about 1 s and try again.",
    )
    clock.now += INTERVAL
    assert limiter.reserve("op-key") == pytest.approx(2 * INTERVAL)


@pytest.mark.anyio
async def test_calls_beyond_the_process_parking_bound_are_refused() -> None:
    """Review 2026-12-07 #5: however many keys wait, the process parks at most `max_parked` calls."""
    limiter = KeyedRateLimiter(10, max_parked=1)
    await limiter.acquire("op-key-a")
    await limiter.acquire("op-key-b")
    async with anyio.create_task_group() as group:
        group.start_soon(limiter.acquire, "op-key-a")
        await anyio.lowlevel.checkpoint()
        with pytest.raises(OpenPhoneError) as refused:
            await limiter.acquire("op-key-b")
    assert (refused.value.status, refused.value.retry_after) == (503, 1.0)
    assert str(refused.value) == (
        "This server has too many calls waiting for OpenPhone right now. Wait about 1 s and try again."
    )
