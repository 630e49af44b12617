"""When an OpenPhone request is repeated and how long to wait first (`tools/retry.py`)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.retry import RetryPolicy, parse_retry_after

NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
POLICY = RetryPolicy(attempts=3, base_delay=0.25, max_backoff=2.0, max_retry_after=10.0)


# may_retry_status


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_read_is_retried_after_429_and_gateway_errors(status: int) -> None:
    assert POLICY.may_retry_status(status, repeatable=True) is True


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 422, 500, 501, 505])
def test_a_read_is_not_retried_after_a_status_that_will_not_change(status: int) -> None:
    assert POLICY.may_retry_status(status, repeatable=True) is False


def test_a_write_is_retried_after_429() -> None:
    assert POLICY.may_retry_status(429, repeatable=False) is True


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_is_not_retried_after_a_5xx_because_it_may_have_arrived(status: int) -> None:
    assert POLICY.may_retry_status(status, repeatable=False) is False


# delay: attempts cap


@pytest.mark.parametrize("attempt", [1, 2])
def test_delay_allows_another_try_below_the_attempt_cap(attempt: int) -> None:
    assert POLICY.delay(attempt, None, random.Random(0)) is not None


@pytest.mark.parametrize("attempt", [3, 4, 100])
def test_delay_stops_once_the_attempt_cap_is_reached(attempt: int) -> None:
    assert POLICY.delay(attempt, None, random.Random(0)) is None


def test_the_attempt_cap_wins_over_a_short_retry_after() -> None:
    assert POLICY.delay(3, 1.0, random.Random(0)) is None


def test_a_policy_of_one_attempt_never_retries() -> None:
    assert RetryPolicy(attempts=1).delay(1, None, random.Random(0)) is None


# delay: full-jitter backoff


@given(seed=st.integers(), attempt=st.integers(min_value=1, max_value=9))
def test_backoff_is_full_jitter_between_zero_and_the_capped_exponential(seed: int, attempt: int) -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.25, max_backoff=2.0)
    delay = policy.delay(attempt, None, random.Random(seed))
    assert delay is not None
    assert 0.0 <= delay <= min(2.0, 0.25 * 2**attempt)


def test_backoff_never_exceeds_max_backoff_on_late_attempts() -> None:
    policy = RetryPolicy(attempts=50, base_delay=0.25, max_backoff=2.0)
    delays = [policy.delay(40, None, random.Random(seed)) for seed in range(200)]
    assert all(d is not None and 0.0 <= d <= 2.0 for d in delays)


def test_backoff_is_jittered_rather_than_fixed() -> None:
    delays = {POLICY.delay(1, None, random.Random(seed)) for seed in range(20)}
    assert len(delays) > 1


def test_backoff_is_reproducible_for_a_given_seed() -> None:
    assert POLICY.delay(2, None, random.Random(42)) == POLICY.delay(2, None, random.Random(42))


# delay: Retry-After


@given(seed=st.integers(), retry_after=st.floats(min_value=0.0, max_value=10.0))
def test_retry_after_within_the_cap_is_waited_out_plus_a_little_jitter(seed: int, retry_after: float) -> None:
    delay = POLICY.delay(1, retry_after, random.Random(seed))
    assert delay is not None
    assert retry_after <= delay <= retry_after + POLICY.base_delay


def test_retry_after_exactly_at_the_cap_is_honoured() -> None:
    delay = POLICY.delay(1, 10.0, random.Random(0))
    assert delay is not None
    assert 10.0 <= delay <= 10.25


@pytest.mark.parametrize("retry_after", [10.001, 11.0, 3600.0, float("inf")])
def test_retry_after_beyond_the_cap_stops_at_once(retry_after: float) -> None:
    assert POLICY.delay(1, retry_after, random.Random(0)) is None


def test_retry_after_replaces_the_exponential_backoff() -> None:
    delay = POLICY.delay(1, 5.0, random.Random(0))
    assert delay is not None
    assert delay >= 5.0 > POLICY.max_backoff


# parse_retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("120", 120.0, id="delay-seconds"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param(" 5 ", 5.0, id="surrounding-whitespace"),
    ],
)
def test_retry_after_delay_seconds_are_read_as_seconds(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_http_date_is_read_relative_to_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=NOW) == 30.0


def test_retry_after_http_date_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("soon", id="text"),
        pytest.param("-5", id="negative"),
        pytest.param("1.5", id="fraction"),
        pytest.param("Wed, 21 Oct 2015 07:28:30", id="date-without-zone"),
        pytest.param("Wed, 32 Oct 2015 07:28:30 GMT", id="impossible-date"),
    ],
)
def test_an_absent_or_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


@given(st.text())
def test_parse_retry_after_never_raises_and_never_returns_a_negative_wait(value: str) -> None:
    result = parse_retry_after(value, now=NOW)
    assert result is None or result >= 0.0


@pytest.mark.parametrize("value", ["²", "١٢"])
def test_non_ascii_digits_are_unreadable_rather_than_an_error(value: str) -> None:
    assert parse_retry_after(value, now=NOW) is None
