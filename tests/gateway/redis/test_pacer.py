"""`gateway/redis/pacer.py` on a real Redis: while Redis is known down, calls do not wait on it."""

from __future__ import annotations

import pytest

from gateway.keys import ServerKeys
from gateway.redis.connection import RedisClients
from gateway.redis.pacer import REPROBE_SECONDS, RedisPacer
from gateway.redis.scripts import Scripts
from gateway.redis.seals import RevocationTags
from tests.redis_server import RedisServer
from tools.rate_limit import KeyedRateLimiter

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reserved(redis_server: RedisServer, pacer: RedisPacer) -> bool:
    """Whether a call asked Redis for a slot of "key-1" (the restarted Redis started empty)."""
    return bool(redis_server.client().exists(f"pace:{pacer.key_id('key-1')}"))


async def test_while_redis_is_known_down_calls_pace_alone_and_one_probes_after_a_second(
    clients: RedisClients, redis_server: RedisServer
) -> None:
    clock = Clock()
    pacer = RedisPacer(
        Scripts(clients.commands, RevocationTags(ServerKeys((b"k" * 32,)))),
        b"p" * 32,
        KeyedRateLimiter(1000),
        monotonic=clock,
    )
    redis_server.stop()
    try:
        await pacer.acquire("key-1")  # fails over to pacing alone
    finally:
        redis_server.start()
    for _ in range(5):
        await pacer.acquire("key-1")
    assert reserved(redis_server, pacer) is False
    clock.now += REPROBE_SECONDS
    await pacer.acquire("key-1")
    assert reserved(redis_server, pacer) is True
