"""Token state: single-use codes, revocation and refresh rotation (`oauth/store.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import pytest

from oauth.store import MIN_PRUNE_ENTRIES, MemoryStore, RefreshOutcome, Store

pytestmark = pytest.mark.anyio

TTL = 100.0
GRACE = 10.0


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock)


async def test_memory_store_implements_the_store_protocol() -> None:
    store: Store = MemoryStore()
    assert await store.ping() is True


class TestConsumeOnce:
    async def test_first_use_succeeds(self, store: MemoryStore) -> None:
        assert await store.consume_once("code-1", TTL) is True

    async def test_second_use_fails(self, store: MemoryStore) -> None:
        await store.consume_once("code-1", TTL)
        assert await store.consume_once("code-1", TTL) is False

    async def test_other_codes_are_independent(self, store: MemoryStore) -> None:
        await store.consume_once("code-1", TTL)
        assert await store.consume_once("code-2", TTL) is True

    async def test_record_is_forgotten_after_its_ttl(self, store: MemoryStore, clock: FakeClock) -> None:
        await store.consume_once("code-1", TTL)
        clock.now += TTL
        assert await store.consume_once("code-1", TTL) is True

    async def test_concurrent_uses_succeed_exactly_once(self, store: MemoryStore) -> None:
        results: list[bool] = []

        async def use() -> None:
            results.append(await store.consume_once("code-1", TTL))

        async with anyio.create_task_group() as tasks:
            for _ in range(20):
                tasks.start_soon(use)
        assert sorted(results) == [False] * 19 + [True]

    async def test_non_positive_ttl_is_refused(self, store: MemoryStore) -> None:
        with pytest.raises(ValueError, match="ttl must be positive"):
            await store.consume_once("code-1", 0)


class TestRevocation:
    async def test_token_is_not_revoked_by_default(self, store: MemoryStore) -> None:
        assert await store.is_revoked("jti-1") is False

    async def test_revoked_token_is_revoked(self, store: MemoryStore) -> None:
        await store.revoke("jti-1", TTL)
        assert await store.is_revoked("jti-1") is True

    async def test_revocation_of_one_token_leaves_others_alone(self, store: MemoryStore) -> None:
        await store.revoke("jti-1", TTL)
        assert await store.is_revoked("jti-2") is False

    async def test_revocation_lasts_until_just_before_its_ttl(
        self, store: MemoryStore, clock: FakeClock
    ) -> None:
        await store.revoke("jti-1", TTL)
        clock.now += TTL - 0.001
        assert await store.is_revoked("jti-1") is True

    async def test_revocation_expires_after_its_ttl(self, store: MemoryStore, clock: FakeClock) -> None:
        await store.revoke("jti-1", TTL)
        clock.now += TTL
        assert await store.is_revoked("jti-1") is False

    async def test_revoking_again_never_shortens_a_revocation(
        self, store: MemoryStore, clock: FakeClock
    ) -> None:
        await store.revoke("jti-1", TTL)
        await store.revoke("jti-1", 1)
        clock.now += TTL / 2
        assert await store.is_revoked("jti-1") is True


class TestRefreshRotation:
    async def test_first_use_is_fresh(self, store: MemoryStore) -> None:
        assert await store.use_refresh("fam-1", "rt-1", GRACE, TTL) is RefreshOutcome.FRESH

    async def test_reuse_within_the_grace_window_is_grace(self, store: MemoryStore, clock: FakeClock) -> None:
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        clock.now += GRACE - 0.001
        assert await store.use_refresh("fam-1", "rt-1", GRACE, TTL) is RefreshOutcome.GRACE

    async def test_grace_use_leaves_the_family_usable(self, store: MemoryStore) -> None:
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        assert await store.use_refresh("fam-1", "rt-2", GRACE, TTL) is RefreshOutcome.FRESH

    async def test_grace_window_runs_from_the_first_use(self, store: MemoryStore, clock: FakeClock) -> None:
        """A use inside the window does not restart it."""
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        clock.now += GRACE / 2
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        clock.now += GRACE / 2
        assert await store.use_refresh("fam-1", "rt-1", GRACE, TTL) is RefreshOutcome.REUSED

    async def test_reuse_after_the_grace_window_is_reused(self, store: MemoryStore, clock: FakeClock) -> None:
        """OAuth 2.1 §4.3.1: a rotated refresh token presented again is a replay."""
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        clock.now += GRACE
        assert await store.use_refresh("fam-1", "rt-1", GRACE, TTL) is RefreshOutcome.REUSED

    async def test_reuse_with_no_grace_is_reused(self, store: MemoryStore) -> None:
        await store.use_refresh("fam-1", "rt-1", 0, TTL)
        assert await store.use_refresh("fam-1", "rt-1", 0, TTL) is RefreshOutcome.REUSED

    async def test_reuse_revokes_the_family(self, store: MemoryStore, clock: FakeClock) -> None:
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        clock.now += GRACE
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        assert await store.family_revoked("fam-1") is True

    async def test_newer_token_of_a_reused_family_is_revoked(
        self, store: MemoryStore, clock: FakeClock
    ) -> None:
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        await store.use_refresh("fam-1", "rt-2", GRACE, TTL)
        clock.now += GRACE
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        assert await store.use_refresh("fam-1", "rt-3", GRACE, TTL) is RefreshOutcome.REVOKED

    async def test_revoked_family_refuses_a_token_never_used(self, store: MemoryStore) -> None:
        await store.revoke_family("fam-1", TTL)
        assert await store.use_refresh("fam-1", "rt-1", GRACE, TTL) is RefreshOutcome.REVOKED

    async def test_revoked_family_refuses_a_grace_use(self, store: MemoryStore) -> None:
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        await store.revoke_family("fam-1", TTL)
        assert await store.use_refresh("fam-1", "rt-1", GRACE, TTL) is RefreshOutcome.REVOKED

    async def test_family_revocation_leaves_other_families_alone(self, store: MemoryStore) -> None:
        await store.revoke_family("fam-1", TTL)
        assert await store.use_refresh("fam-2", "rt-1", GRACE, TTL) is RefreshOutcome.FRESH

    async def test_family_revocation_expires_after_its_ttl(
        self, store: MemoryStore, clock: FakeClock
    ) -> None:
        await store.revoke_family("fam-1", TTL)
        clock.now += TTL
        assert await store.family_revoked("fam-1") is False

    async def test_family_is_not_revoked_by_default(self, store: MemoryStore) -> None:
        assert await store.family_revoked("fam-1") is False

    async def test_same_jti_in_another_family_is_fresh(self, store: MemoryStore) -> None:
        await store.use_refresh("fam-1", "rt-1", GRACE, TTL)
        assert await store.use_refresh("fam-2", "rt-1", GRACE, TTL) is RefreshOutcome.FRESH

    async def test_concurrent_refreshes_give_one_fresh_and_the_rest_grace(self, store: MemoryStore) -> None:
        results: list[RefreshOutcome] = []

        async def refresh() -> None:
            results.append(await store.use_refresh("fam-1", "rt-1", GRACE, TTL))

        async with anyio.create_task_group() as tasks:
            for _ in range(10):
                tasks.start_soon(refresh)
        assert sorted(results) == sorted([RefreshOutcome.FRESH] + [RefreshOutcome.GRACE] * 9)


class TestPruning:
    async def test_expired_records_do_not_accumulate(self, store: MemoryStore, clock: FakeClock) -> None:
        """Ten thousand short-lived writes leave at most twice the sweep threshold behind."""
        for index in range(10_000):
            await store.revoke(f"jti-{index}", 1)
            clock.now += 0.01
        assert len(store) <= 2 * MIN_PRUNE_ENTRIES

    async def test_pruning_never_drops_a_live_record(self, store: MemoryStore) -> None:
        count = 3 * MIN_PRUNE_ENTRIES
        for index in range(count):
            await store.consume_once(f"code-{index}", TTL)
        assert [await store.consume_once(f"code-{index}", TTL) for index in range(count)] == [False] * count

    async def test_reading_an_expired_record_drops_it(self, store: MemoryStore, clock: FakeClock) -> None:
        await store.revoke("jti-1", 1)
        clock.now += 1
        await store.is_revoked("jti-1")
        assert len(store) == 0


async def test_ping_reports_ready(store: MemoryStore) -> None:
    assert await store.ping() is True
