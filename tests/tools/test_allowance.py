"""The daily allowance (tools/allowance.py, gateway/redis/allowance.py): exact, atomic, refundable.

Every test runs against the memory allowance and the Redis one on a real redis-server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from gateway.keys import ServerKeys
from gateway.redis.allowance import RedisAllowance
from gateway.redis.connection import connect
from gateway.redis.scripts import Scripts
from gateway.redis.seals import RevocationTags
from tests.redis_server import RedisServer
from tools.allowance import WINDOW_SECONDS, Allowance, MemoryAllowance
from tools.errors import SendCounterUnavailable

pytestmark = pytest.mark.anyio

SECRET = bytes(range(32))
TAGS = RevocationTags(ServerKeys((SECRET,)))
GRANT = "family-1"


@pytest.fixture(params=["memory", "redis"])
async def allowance(request: pytest.FixtureRequest) -> AsyncIterator[Allowance]:
    if request.param == "memory":
        yield MemoryAllowance()
        return
    url = request.getfixturevalue("redis_url")
    clients = connect(url)
    try:
        yield RedisAllowance(Scripts(clients.commands, TAGS), SECRET)
    finally:
        await clients.aclose()


async def test_reservations_are_granted_up_to_the_limit_exactly(allowance: Allowance) -> None:
    first = await allowance.reserve(GRANT, "r1", 7, 10)
    second = await allowance.reserve(GRANT, "r2", 3, 10)
    third = await allowance.reserve(GRANT, "r3", 1, 10)
    assert (first.granted, first.remaining) == (True, 3)
    assert (second.granted, second.remaining) == (True, 0)
    assert (third.granted, third.remaining) == (False, 0)


async def test_used_counts_what_is_reserved_and_not_refunded(allowance: Allowance) -> None:
    """What the connected-apps page shows as sent in the last 24 hours."""
    assert await allowance.used(GRANT) == 0
    await allowance.reserve(GRANT, "r1", 4, 10)
    await allowance.reserve(GRANT, "r2", 9, 10)
    await allowance.refund(GRANT, "r1", [1])
    assert (await allowance.used(GRANT), await allowance.used("another-grant")) == (3, 0)


async def test_a_refused_reservation_takes_nothing(allowance: Allowance) -> None:
    await allowance.reserve(GRANT, "r1", 8, 10)
    refused = await allowance.reserve(GRANT, "r2", 3, 10)
    after = await allowance.reserve(GRANT, "r3", 2, 10)
    assert (refused.granted, refused.remaining) == (False, 2)
    assert (after.granted, after.remaining) == (True, 0)


async def test_refunded_recipients_can_be_reserved_again(allowance: Allowance) -> None:
    await allowance.reserve(GRANT, "r1", 10, 10)
    await allowance.refund(GRANT, "r1", [2, 5, 5])
    again = await allowance.reserve(GRANT, "r2", 2, 10)
    assert (again.granted, again.remaining) == (True, 0)


async def test_a_refusal_says_when_the_send_fits_again(allowance: Allowance) -> None:
    start = time.time()
    await allowance.reserve(GRANT, "r1", 10, 10)
    refused = await allowance.reserve(GRANT, "r2", 1, 10)
    assert refused.resets_at is not None
    assert start + WINDOW_SECONDS - 5 <= refused.resets_at <= time.time() + WINDOW_SECONDS + 5


async def test_a_send_larger_than_the_limit_never_fits(allowance: Allowance) -> None:
    refused = await allowance.reserve(GRANT, "r1", 11, 10)
    assert (refused.granted, refused.remaining, refused.resets_at) == (False, 10, None)


async def test_grants_are_counted_apart(allowance: Allowance) -> None:
    await allowance.reserve(GRANT, "r1", 10, 10)
    other = await allowance.reserve("family-2", "r2", 10, 10)
    assert (other.granted, other.remaining) == (True, 0)


async def test_memory_entries_drop_out_after_the_window() -> None:
    now = [1000.0]
    allowance = MemoryAllowance(clock=lambda: now[0], window=60)
    await allowance.reserve(GRANT, "r1", 10, 10)
    now[0] += 61
    assert (await allowance.reserve(GRANT, "r2", 10, 10)).granted is True


async def test_a_retried_redis_reservation_counts_once(redis_url: str) -> None:
    """redis-py repeats a script whose reply was lost: the same reservation must not count twice."""
    clients = connect(redis_url)
    try:
        allowance = RedisAllowance(Scripts(clients.commands, TAGS), SECRET)
        await allowance.reserve(GRANT, "r1", 6, 10)
        retried = await allowance.reserve(GRANT, "r1", 6, 10)
        assert (retried.granted, retried.remaining) == (True, 4)
    finally:
        await clients.aclose()


async def test_redis_down_refuses_the_reservation_as_retryable(
    redis_url: str, redis_server: RedisServer
) -> None:
    clients = connect(redis_url)
    try:
        allowance = RedisAllowance(Scripts(clients.commands, TAGS), SECRET)
        redis_server.stop()
        with pytest.raises(SendCounterUnavailable) as caught:
            await allowance.reserve(GRANT, "r1", 1, 10)
        assert "try again in a few seconds" in str(caught.value)
    finally:
        redis_server.ensure_running()
        await clients.aclose()


async def test_thirty_concurrent_reservations_of_one_take_exactly_ten(allowance: Allowance) -> None:
    results = await asyncio.gather(*(allowance.reserve(GRANT, f"r{n}", 1, 10) for n in range(30)))
    assert sum(result.granted for result in results) == 10


# No interleaving passes the allowance ---------------------------------------------------------------

LIMIT = 12


class AllowanceMachine(RuleBasedStateMachine):
    """Reservations (alone or several at once) and refunds against a model of what must hold.

    `build` is set by each test: a fresh, empty allowance for every example.
    """

    portal: BlockingPortal
    build: Callable[[], Allowance]

    def __init__(self) -> None:
        super().__init__()
        self.allowance = type(self).build()
        self.live: dict[str, set[int]] = {}  # reservation -> indexes of recipients still counted
        self.serial = 0

    def _next(self) -> str:
        self.serial += 1
        return f"res-{self.serial}"

    def _used(self) -> int:
        return sum(len(indexes) for indexes in self.live.values())

    @rule(count=st.integers(1, 5))
    def reserve(self, count: int) -> None:
        name = self._next()
        result = self.portal.call(self.allowance.reserve, GRANT, name, count, LIMIT)
        assert result.granted == (self._used() + count <= LIMIT)
        if result.granted:
            self.live[name] = set(range(count))

    @rule(counts=st.lists(st.integers(1, 4), min_size=2, max_size=6))
    def reserve_at_once(self, counts: list[int]) -> None:
        names = [self._next() for _ in counts]

        async def together() -> list[bool]:
            pairs = zip(names, counts, strict=True)
            results = await asyncio.gather(
                *(self.allowance.reserve(GRANT, name, count, LIMIT) for name, count in pairs)
            )
            return [result.granted for result in results]

        for name, count, granted in zip(names, counts, self.portal.call(together), strict=True):
            if granted:
                self.live[name] = set(range(count))

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        if not self.live:
            return
        name = data.draw(st.sampled_from(sorted(self.live)))
        original = max(self.live[name], default=0) + 1
        indexes = data.draw(st.lists(st.integers(0, original), unique=True, min_size=1, max_size=4))
        self.portal.call(self.allowance.refund, GRANT, name, indexes)
        self.live[name] -= set(indexes)

    @invariant()
    def exactly_what_is_left_can_be_reserved(self) -> None:
        left = LIMIT - self._used()
        assert left >= 0
        probe = self.portal.call(self.allowance.reserve, GRANT, "probe", left + 1, LIMIT)
        assert (probe.granted, probe.remaining) == (False, left)


@pytest.fixture
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal() as running:
        yield running


def run_machine(portal: BlockingPortal, build: Callable[[], Allowance]) -> None:
    machine = type("Machine", (AllowanceMachine,), {"portal": portal, "build": staticmethod(build)})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=60, stateful_step_count=20, deadline=None)
    )


def test_no_interleaving_passes_the_memory_allowance(portal: BlockingPortal) -> None:
    run_machine(portal, MemoryAllowance)


def test_no_interleaving_passes_the_redis_allowance(
    portal: BlockingPortal, redis_url: str, redis_server: RedisServer
) -> None:
    clients = connect(redis_url)
    scripts = Scripts(clients.commands, TAGS)

    def fresh() -> Allowance:
        redis_server.flush()
        return RedisAllowance(scripts, SECRET)

    try:
        run_machine(portal, fresh)
    finally:
        portal.call(clients.aclose)
