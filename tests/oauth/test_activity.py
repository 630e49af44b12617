"""The activity log (issue 25), in memory and as a Redis stream: the last 100 writes of 30 days."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Final

import pytest

from gateway.redis.activity import RedisActivity
from gateway.redis.connection import connect
from oauth.activity import ENTRY_SECONDS, MAX_ENTRIES_PER_KEY, ActivityLog, Entry, MemoryActivity, describe

pytestmark = pytest.mark.anyio

DIGEST: Final = "d" * 64


@pytest.fixture(params=["memory", "redis"])
async def log(request: pytest.FixtureRequest) -> AsyncIterator[ActivityLog]:
    if request.param == "memory":
        yield MemoryActivity()
        return
    clients = connect(request.getfixturevalue("redis_url"))
    try:
        yield RedisActivity(clients.commands)
    finally:
        await clients.aclose()


def _entry(number: int, at: float) -> Entry:
    return Entry(
        tool="create-contact",
        at=at,
        credential="header:x",
        direct=True,
        outcome="ok",
        audit_id=f"au_{number}",
    )


async def test_the_log_keeps_the_last_hundred_writes_newest_first(log: ActivityLog) -> None:
    now = time.time()
    await log.append([(DIGEST, _entry(number, now + number)) for number in range(MAX_ENTRIES_PER_KEY + 20)])
    kept = [entry.audit_id for entry in await log.recent(DIGEST)]
    assert kept == [f"au_{number}" for number in reversed(range(20, MAX_ENTRIES_PER_KEY + 20))]


async def test_a_write_older_than_thirty_days_is_not_listed(log: ActivityLog) -> None:
    now = time.time()
    await log.append([(DIGEST, _entry(1, now - ENTRY_SECONDS - 1)), (DIGEST, _entry(2, now))])
    assert [entry.audit_id for entry in await log.recent(DIGEST)] == ["au_2"]


def test_a_send_is_described_by_recipients_and_message_id_never_its_text() -> None:
    described = describe(
        "send-message",
        {"from": "PN1", "to": "+15550100", "content": "secret text"},
        {"id": "AC1", "auditId": "au_x"},
    )
    assert described == {
        "recipients": ("+15550100",),
        "contact_id": None,
        "message_ids": ("AC1",),
        "audit_id": "au_x",
    }
