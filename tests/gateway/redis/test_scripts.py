"""The Lua scripts on a real Redis: retries are harmless, a lost script cache is reloaded."""

from __future__ import annotations

import asyncio
import itertools

import pytest
import redis

from gateway.keys import ServerKeys
from gateway.redis.connection import RedisClients
from gateway.redis.scripts import REVOCATION_INDEX, Scripts
from gateway.redis.seals import RevocationTags
from oauth.store import RefreshOutcome, Rotation
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio

MINUTE_MS = 60_000
TAGS = RevocationTags(ServerKeys((b"k" * 32,)))


@pytest.fixture
def scripts(clients: RedisClients) -> Scripts:
    return Scripts(clients.commands, TAGS)


async def test_a_redemption_retried_with_its_nonce_is_not_a_replay(scripts: Scripts) -> None:
    """redis-py repeats a command whose reply was lost: the same nonce must redeem again."""
    assert await scripts.redeem_code("fam-1", "nonce-a", MINUTE_MS, MINUTE_MS) is True
    assert await scripts.redeem_code("fam-1", "nonce-a", MINUTE_MS, MINUTE_MS) is True
    assert await scripts.redeem_code("fam-1", "nonce-b", MINUTE_MS, MINUTE_MS) is False


async def test_a_spend_retried_with_its_nonce_still_counts_as_the_first(scripts: Scripts) -> None:
    assert await scripts.spend_once("consent:1", "nonce-a", MINUTE_MS) is True
    assert await scripts.spend_once("consent:1", "nonce-a", MINUTE_MS) is True
    assert await scripts.spend_once("consent:1", "nonce-b", MINUTE_MS) is False


async def test_a_replay_bans_the_family_in_the_index_for_its_lifetime(
    scripts: Scripts, redis_server: RedisServer
) -> None:
    await scripts.redeem_code("fam-1", "nonce-a", MINUTE_MS, 10 * MINUTE_MS)
    await scripts.redeem_code("fam-1", "nonce-b", MINUTE_MS, 10 * MINUTE_MS)
    client = redis_server.client()
    expires_ms = client.zscore(REVOCATION_INDEX, TAGS.tag("f:fam-1"))
    assert expires_ms is not None
    time_s, time_us = client.time()
    assert expires_ms - (time_s * 1000 + time_us // 1000) > 9 * MINUTE_MS
    assert client.exists("oauth:{fam-1}:rt") == 0


async def test_a_rotation_run_twice_is_a_grace_not_a_reuse(scripts: Scripts) -> None:
    """A rotation retried after a lost reply mints the same generation again."""
    await scripts.redeem_code("fam-1", "nonce", MINUTE_MS, MINUTE_MS)
    assert await scripts.rotate_refresh("fam-1", 1, 1000, MINUTE_MS) == Rotation(RefreshOutcome.FRESH, 2)
    assert await scripts.rotate_refresh("fam-1", 1, 1000, MINUTE_MS) == Rotation(RefreshOutcome.GRACE, 2)


async def test_scripts_are_reloaded_after_redis_forgets_them(
    scripts: Scripts, redis_server: RedisServer
) -> None:
    await scripts.redeem_code("fam-1", "nonce", MINUTE_MS, MINUTE_MS)
    redis_server.client().script_flush()
    assert await scripts.rotate_refresh("fam-1", 1, 1000, MINUTE_MS) == Rotation(RefreshOutcome.FRESH, 2)


async def test_the_pace_script_spaces_reservations_on_one_key(scripts: Scripts) -> None:
    waits = sorted(await asyncio.gather(*(scripts.pace("key-1", 1000, 30_000) for _ in range(5))))
    assert waits[0] == 0
    # Each slot is one interval after the one before it, less the moments between the reservations.
    gaps = [later - earlier for earlier, later in itertools.pairwise(waits)]
    assert all(500 < gap <= 1000 for gap in gaps), gaps
    assert await scripts.pace("key-2", 1000, 30_000) == 0


async def test_the_pace_script_refuses_a_wait_longer_than_allowed(scripts: Scripts) -> None:
    for _ in range(3):
        await scripts.pace("key-1", 1000, 1500)
    assert await scripts.pace("key-1", 1000, 1500) == -1


async def test_a_paused_redis_fails_a_command_instead_of_hanging(
    scripts: Scripts, redis_server: RedisServer
) -> None:
    """redis-py's defaults wait about a minute; ours give up within a few seconds at most."""
    redis_server.pause()
    try:
        with pytest.raises(redis.RedisError):
            async with asyncio.timeout(10):
                await scripts.redeem_code("fam-1", "nonce", MINUTE_MS, MINUTE_MS)
    finally:
        redis_server.resume()
