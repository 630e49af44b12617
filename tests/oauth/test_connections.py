"""The connection index (issue 25), in memory and on a real Redis: bounded, expiring, newest first."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Final

import pytest

from gateway.keys import ServerKeys
from gateway.redis.connection import connect
from gateway.redis.connections import RedisConnections
from gateway.redis.scripts import Scripts
from gateway.redis.seals import RevocationTags
from oauth.connections import Connection, ConnectionIndex, MemoryConnections, Use

pytestmark = pytest.mark.anyio

PER_KEY: Final = 3
KEYS: Final = 4
DIGEST: Final = "a" * 64
DAY_SECONDS: Final = 86_400
TAGS: Final = RevocationTags(ServerKeys((b"k" * 32,)))


@pytest.fixture(params=["memory", "redis"])
async def index(request: pytest.FixtureRequest) -> AsyncIterator[ConnectionIndex]:
    if request.param == "memory":
        yield MemoryConnections(per_key=PER_KEY, keys=KEYS)
        return
    clients = connect(request.getfixturevalue("redis_url"))
    try:
        yield RedisConnections(clients.commands, Scripts(clients.commands, TAGS), per_key=PER_KEY, keys=KEYS)
    finally:
        await clients.aclose()


def _connection(family: str, granted_at: float, lifetime: float = DAY_SECONDS) -> Connection:
    return Connection(
        family=family,
        client_name=f"App {family}",
        redirect_host="app.test",
        scopes=("messages:read",),
        granted_at=granted_at,
        expires_at=granted_at + lifetime,
    )


async def test_sign_ins_are_listed_newest_first(index: ConnectionIndex) -> None:
    now = time.time()
    for family, offset in (("old", -20), ("new", 0), ("mid", -10)):
        await index.add(DIGEST, _connection(family, now + offset))
    assert [held.family for held in await index.list(DIGEST)] == ["new", "mid", "old"]


async def test_the_oldest_sign_in_gives_way_beyond_the_bound_per_key(index: ConnectionIndex) -> None:
    now = time.time()
    for number in range(PER_KEY + 2):
        await index.add(DIGEST, _connection(f"f{number}", now + number))
    assert [held.family for held in await index.list(DIGEST)] == ["f4", "f3", "f2"]


async def test_the_key_written_longest_ago_gives_way_beyond_the_overall_bound(index: ConnectionIndex) -> None:
    now = time.time()
    digests = [str(number) * 64 for number in range(KEYS + 1)]
    for number, digest in enumerate(digests):
        await index.add(digest, _connection("f", now, lifetime=DAY_SECONDS + number))
    assert [len(await index.list(digest)) for digest in digests] == [0] + [1] * KEYS


async def test_an_expired_sign_in_is_not_listed(index: ConnectionIndex) -> None:
    now = time.time()
    await index.add(DIGEST, _connection("gone", now - DAY_SECONDS - 1))
    await index.add(DIGEST, _connection("live", now))
    assert [held.family for held in await index.list(DIGEST)] == ["live"]


async def test_a_removed_sign_in_is_not_listed_and_removing_again_is_quiet(index: ConnectionIndex) -> None:
    await index.add(DIGEST, _connection("f", time.time()))
    await index.remove(DIGEST, "f")
    await index.remove(DIGEST, "f")
    assert await index.list(DIGEST) == []


async def test_last_used_is_noted_only_for_an_indexed_sign_in(index: ConnectionIndex) -> None:
    now = time.time()
    await index.add(DIGEST, _connection("f", now))
    await index.touch([Use(DIGEST, "f", now + 60), Use(DIGEST, "unknown", now)])
    assert [(held.family, held.last_used) for held in await index.list(DIGEST)] == [
        ("f", float(int(now + 60)))
    ]
