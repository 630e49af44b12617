"""Pending sends in the shared state (`tools/pending.py`, `gateway/redis/pending.py`): settled once.

Every test runs against both stores: in memory, and on a real Redis.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.keys import ServerKeys
from gateway.protocol.confirmation import Confirmations
from gateway.redis.connection import connect
from gateway.redis.pending import RedisPendingStore
from gateway.redis.scripts import Scripts
from gateway.redis.seals import RevocationTags
from tests.conftest import TEST_API_KEY
from tools.pending import (
    PENDING_TTL_SECONDS,
    Decision,
    HeldSend,
    MemoryPendingStore,
    NotPending,
    PendingStore,
    SendRequest,
    Status,
    new_pending_id,
)

pytestmark = pytest.mark.anyio

KEYS = ServerKeys((b"k" * 32,))
GRANT_ID = "family-1"


def held_send(expires_in: float = PENDING_TTL_SECONDS, grant_id: str = GRANT_ID) -> HeldSend:
    return HeldSend(
        id=new_pending_id(),
        grant_id=grant_id,
        grant_digest="d" * 16,
        fingerprint="f" * 16,
        api_key=TEST_API_KEY,
        tool="send-message",
        arguments={"from": "PNsandboxMain", "to": "+14155550123", "content": "Hi"},
        request=SendRequest(sender="PNsandboxMain", recipients=("+14155550123",), text="Hi"),
        expires_at=time.time() + expires_in,
    )


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PendingStore]:
    if request.param == "memory":
        yield MemoryPendingStore()
        return
    url: str = request.getfixturevalue("redis_url")
    clients = connect(url)
    try:
        yield RedisPendingStore(
            clients.commands, Scripts(clients.commands, RevocationTags(KEYS)), KEYS.derive("pending-send")
        )
    finally:
        await clients.aclose()


async def test_a_pending_send_is_confirmed_once(store: PendingStore) -> None:
    pending = held_send()
    await store.put(pending)
    assert await store.settle(pending.id, GRANT_ID, "confirm") == pending
    with pytest.raises(NotPending) as second:
        await store.settle(pending.id, GRANT_ID, "confirm")
    assert second.value.reason == Status.CONFIRMING


async def test_a_cancelled_send_cannot_be_confirmed(store: PendingStore) -> None:
    pending = held_send()
    await store.put(pending)
    await store.settle(pending.id, GRANT_ID, "cancel")
    with pytest.raises(NotPending) as confirm:
        await store.settle(pending.id, GRANT_ID, "confirm")
    assert confirm.value.reason == Status.CANCELLED


async def test_another_grant_cannot_settle_a_pending_send(store: PendingStore) -> None:
    pending = held_send()
    await store.put(pending)
    with pytest.raises(NotPending) as other:
        await store.settle(pending.id, "family-2", "confirm")
    assert other.value.reason == "other-grant"
    kept = await store.get(pending.id)
    assert kept is not None
    assert kept.status is Status.PENDING


async def test_an_expired_pending_send_cannot_be_confirmed(store: PendingStore) -> None:
    pending = held_send(expires_in=-1)
    await store.put(pending)
    with pytest.raises(NotPending) as expired:
        await store.settle(pending.id, GRANT_ID, "confirm")
    assert expired.value.reason == "expired"


async def test_an_unknown_pending_send_cannot_be_confirmed(store: PendingStore) -> None:
    with pytest.raises(NotPending) as unknown:
        await store.settle(new_pending_id(), GRANT_ID, "confirm")
    assert unknown.value.reason == "missing"


async def test_a_finished_send_keeps_its_outcome_and_is_found_by_its_digest(store: PendingStore) -> None:
    pending = held_send()
    await store.put(pending, findable=True)
    await store.settle(pending.id, GRANT_ID, "confirm")
    await store.finish(
        pending.id, Status.SENT, {"content": [{"type": "text", "text": "ok"}], "isError": False}
    )
    found = await store.find(GRANT_ID, pending.digest)
    assert found is not None
    assert (found.pending, found.status, found.outcome) == (
        pending,
        Status.SENT,
        {"content": [{"type": "text", "text": "ok"}], "isError": False},
    )


async def test_a_forgotten_send_is_no_longer_found(store: PendingStore) -> None:
    pending = held_send()
    await store.put(pending, findable=True)
    await store.forget(pending)
    assert await store.find(GRANT_ID, pending.digest) is None


async def test_a_send_not_made_findable_is_not_found(store: PendingStore) -> None:
    pending = held_send()
    await store.put(pending)
    assert await store.find(GRANT_ID, pending.digest) is None


async def test_the_redis_record_does_not_hold_the_key_in_clear(redis_url: str) -> None:
    clients = connect(redis_url)
    try:
        store = RedisPendingStore(
            clients.commands, Scripts(clients.commands, RevocationTags(KEYS)), KEYS.derive("pending-send")
        )
        pending = held_send()
        await store.put(pending)
        stored = await clients.commands.hgetall(f"pending:{{{pending.id}}}")
    finally:
        await clients.aclose()
    assert all(TEST_API_KEY.encode() not in value for value in stored.values())


# Every way a settlement can reach one pending send, run concurrently in a drawn order.
ATTEMPTS = st.lists(st.sampled_from(["confirm", "cancel", "other-grant"]), min_size=1, max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=ATTEMPTS)
async def test_no_interleaving_of_confirmations_sends_a_pending_send_twice(
    store: PendingStore, attempts: list[str]
) -> None:
    """Confirmations, cancels, replays and other grants' attempts, interleaved: at most one delivery,
    and a delivery exactly when the send ended SENT."""
    confirmations = Confirmations(store, KEYS, "http://gateway.test")
    pending = held_send()
    await store.put(pending)
    delivered: list[str] = []

    async def deliver(held: HeldSend) -> dict[str, Any]:
        await anyio.lowlevel.checkpoint()  # another settlement may run while this one delivers
        delivered.append(held.id)
        return {"content": [{"type": "text", "text": "sent"}], "isError": False}

    def attempt(kind: str) -> Callable[[], Any]:
        grant = "family-2" if kind == "other-grant" else GRANT_ID
        decision: Decision = "cancel" if kind == "cancel" else "confirm"
        return lambda: confirmations.settle(pending.id, grant, decision, deliver)

    async with anyio.create_task_group() as group:
        for kind in attempts:
            group.start_soon(attempt(kind))
    record = await store.get(pending.id)
    assert record is not None
    assert len(delivered) <= 1
    assert (record.status is Status.SENT) == (len(delivered) == 1)
