"""Token state: single-use codes, refresh rotation and revocation (`oauth/store.py`), held to the same
behaviour in memory and on a real Redis (`gateway/redis/store.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from gateway.keys import ServerKeys
from gateway.protocol.inflight import InFlightCalls
from gateway.shared_state import SharedState, build_shared_state
from oauth.store import MIN_PRUNE_ENTRIES, MemoryStore, RefreshOutcome, Rotation, Store
from tests.conftest import make_settings
from tests.toolkit import eventually

pytestmark = pytest.mark.anyio

# Short enough to wait out on Redis, whose clock cannot be faked.
TTL = 1.0
GRACE = 0.4
FAMILY_TTL = 30.0
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Subject:
    """A store under test and how to let time pass for it."""

    store: Store
    advance: Callable[[float], Awaitable[None]]


async def connected_state(redis_url: str) -> SharedState:
    """A started Redis-backed state, once its subscriber listens (so it hears revocations)."""
    state = build_shared_state(
        make_settings(8000, redis_url=redis_url), ServerKeys((b"k" * 32,)), InFlightCalls(b"c" * 32)
    )
    await state.start()
    await eventually(state.checks["redis"], CONNECT_TIMEOUT_SECONDS)
    return state


@pytest.fixture(params=["memory", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        clock = FakeClock()

        async def tick(seconds: float) -> None:
            clock.now += seconds

        yield Subject(MemoryStore(clock), tick)
        return
    state = await connected_state(request.getfixturevalue("redis_url"))
    try:
        yield Subject(state.store, asyncio.sleep)
    finally:
        await state.aclose()


async def rotate(store: Store, generation: int, family: str = "fam-1") -> Rotation:
    return await store.rotate_refresh(family, generation, grace=GRACE, family_ttl=FAMILY_TTL)


class TestCodes:
    async def test_first_redemption_succeeds(self, subject: Subject) -> None:
        assert await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL) is True

    async def test_second_redemption_fails(self, subject: Subject) -> None:
        await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        assert await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL) is False

    async def test_replay_revokes_the_family_the_code_started(self, subject: Subject) -> None:
        """RFC 6749 §4.1.2: a code used twice revokes the tokens it was exchanged for."""
        await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        assert subject.store.is_revoked("any-access-token", "code-1") is True

    async def test_other_codes_are_independent(self, subject: Subject) -> None:
        await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        assert await subject.store.redeem_code("code-2", code_ttl=TTL, family_ttl=FAMILY_TTL) is True

    async def test_redeemed_code_starts_at_generation_one(self, subject: Subject) -> None:
        await subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        assert await rotate(subject.store, 1, "code-1") == (RefreshOutcome.FRESH, 2)

    async def test_fifty_concurrent_redemptions_have_one_winner(self, subject: Subject) -> None:
        results = await asyncio.gather(
            *(subject.store.redeem_code("code-1", code_ttl=TTL, family_ttl=FAMILY_TTL) for _ in range(50))
        )
        assert sorted(results) == [False] * 49 + [True]

    async def test_non_positive_ttl_is_refused(self, subject: Subject) -> None:
        with pytest.raises(ValueError, match="positive"):
            await subject.store.redeem_code("code-1", code_ttl=0, family_ttl=FAMILY_TTL)


class TestSpendOnce:
    async def test_first_spend_succeeds_and_later_ones_fail(self, subject: Subject) -> None:
        assert await subject.store.spend_once("consent:1", TTL) is True
        assert await subject.store.spend_once("consent:1", TTL) is False
        assert await subject.store.spend_once("consent:2", TTL) is True

    async def test_a_spend_is_forgotten_after_its_ttl(self, subject: Subject) -> None:
        await subject.store.spend_once("consent:1", TTL)
        await subject.advance(TTL + 0.2)
        assert await subject.store.spend_once("consent:1", TTL) is True

    async def test_concurrent_spends_have_one_winner(self, subject: Subject) -> None:
        results = await asyncio.gather(*(subject.store.spend_once("consent:1", TTL) for _ in range(20)))
        assert sorted(results) == [False] * 19 + [True]


class TestRotation:
    async def test_current_generation_rotates(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        assert await rotate(subject.store, 1) == (RefreshOutcome.FRESH, 2)
        assert await rotate(subject.store, 2) == (RefreshOutcome.FRESH, 3)

    async def test_previous_generation_within_grace_mints_the_current_one(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await rotate(subject.store, 1)
        assert await rotate(subject.store, 1) == (RefreshOutcome.GRACE, 2)

    async def test_grace_leaves_the_family_usable(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await rotate(subject.store, 1)
        await rotate(subject.store, 1)
        assert await rotate(subject.store, 2) == (RefreshOutcome.FRESH, 3)

    async def test_previous_generation_after_grace_is_reuse(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await rotate(subject.store, 1)
        await subject.advance(GRACE + 0.2)
        assert (await rotate(subject.store, 1)).outcome is RefreshOutcome.REUSED

    async def test_older_generation_is_reuse_at_once(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await rotate(subject.store, 1)
        await rotate(subject.store, 2)
        assert (await rotate(subject.store, 1)).outcome is RefreshOutcome.REUSED

    async def test_reuse_revokes_the_family_and_its_newest_token(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await rotate(subject.store, 1)
        await rotate(subject.store, 2)
        await rotate(subject.store, 1)
        assert (await rotate(subject.store, 3)).outcome is RefreshOutcome.REVOKED
        assert subject.store.is_revoked("access-of-fam-1", "fam-1") is True

    async def test_unknown_family_carries_on_from_the_token(self, subject: Subject) -> None:
        """State lost (a restart, a wiped Redis, a token older than generations) is not a failure."""
        assert await rotate(subject.store, 0) == (RefreshOutcome.FRESH, 1)
        assert await rotate(subject.store, 1) == (RefreshOutcome.FRESH, 2)

    async def test_revoked_family_refuses_every_generation(self, subject: Subject) -> None:
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await subject.store.revoke_family("fam-1", FAMILY_TTL)
        assert (await rotate(subject.store, 1)).outcome is RefreshOutcome.REVOKED

    async def test_family_revocation_leaves_other_families_alone(self, subject: Subject) -> None:
        await subject.store.revoke_family("fam-1", FAMILY_TTL)
        assert await rotate(subject.store, 0, "fam-2") == (RefreshOutcome.FRESH, 1)

    async def test_concurrent_refreshes_give_one_rotation(self, subject: Subject) -> None:
        """Every caller gets a token of the one new generation."""
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        results = await asyncio.gather(*(rotate(subject.store, 1) for _ in range(20)))
        assert sorted(results) == sorted([(RefreshOutcome.FRESH, 2)] + [(RefreshOutcome.GRACE, 2)] * 19)


class TestRevocation:
    async def test_token_is_not_revoked_by_default(self, subject: Subject) -> None:
        assert subject.store.is_revoked("jti-1", None) is False

    async def test_revoked_token_is_revoked(self, subject: Subject) -> None:
        await subject.store.revoke_token("jti-1", TTL)
        assert subject.store.is_revoked("jti-1", None) is True

    async def test_revocation_of_one_token_leaves_others_alone(self, subject: Subject) -> None:
        await subject.store.revoke_token("jti-1", TTL)
        assert subject.store.is_revoked("jti-2", "fam-9") is False

    async def test_token_revocation_expires_after_its_ttl(self, subject: Subject) -> None:
        await subject.store.revoke_token("jti-1", TTL)
        await subject.advance(TTL + 0.2)
        assert subject.store.is_revoked("jti-1", None) is False

    async def test_family_ban_outlives_the_token_that_was_presented(self, subject: Subject) -> None:
        """A ban lasts the family's lifetime, not the presented token's (review finding 2)."""
        await subject.store.redeem_code("fam-1", code_ttl=TTL, family_ttl=FAMILY_TTL)
        await rotate(subject.store, 1)  # a thief rotates first and holds generation 2
        await subject.advance(GRACE + 0.2)
        await rotate(subject.store, 1)  # the real client's token comes back: reuse
        await subject.advance(TTL + 0.2)  # past the presented token's own ttl in these tests
        assert (await rotate(subject.store, 2)).outcome is RefreshOutcome.REVOKED
        assert subject.store.is_revoked("access", "fam-1") is True

    async def test_revoking_again_never_shortens_a_ban(self, subject: Subject) -> None:
        await subject.store.revoke_family("fam-1", FAMILY_TTL)
        await subject.store.revoke_family("fam-1", TTL)
        await subject.advance(TTL + 0.2)
        assert subject.store.is_revoked("access", "fam-1") is True


class TestMemoryPruning:
    async def test_expired_records_do_not_accumulate(self) -> None:
        """Ten thousand short-lived writes leave at most twice the sweep threshold behind."""
        clock = FakeClock()
        store = MemoryStore(clock)
        for index in range(10_000):
            await store.revoke_token(f"jti-{index}", 1)
            clock.now += 0.01
        assert len(store) <= 2 * MIN_PRUNE_ENTRIES

    async def test_pruning_never_drops_a_live_record(self) -> None:
        store = MemoryStore(FakeClock())
        count = 3 * MIN_PRUNE_ENTRIES
        for index in range(count):
            await store.redeem_code(f"code-{index}", code_ttl=TTL, family_ttl=FAMILY_TTL)
        redeemed = [
            await store.redeem_code(f"code-{i}", code_ttl=TTL, family_ttl=FAMILY_TTL) for i in range(count)
        ]
        assert redeemed == [False] * count

    async def test_reading_an_expired_record_drops_it(self) -> None:
        clock = FakeClock()
        store = MemoryStore(clock)
        await store.revoke_token("jti-1", 1)
        clock.now += 1
        store.is_revoked("jti-1", None)
        assert len(store) == 0


async def test_ping_reports_ready(subject: Subject) -> None:
    assert await subject.store.ping() is True
