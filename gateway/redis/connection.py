"""The Redis clients: explicit timeouts, bounded retries, a blocking pool.

redis-py's defaults wait about a minute on a stalled server (5 s socket timeout, 10 retries with
backoff up to 1 s; distributed-state-notes.md §3), and its plain pool raises once exhausted. Here a
command gives up after 0.25 s per try and two retries, and a request waits at most a second for a
pooled connection, so no request waits on Redis for more than about a second.

Two clients share the server: `commands` retries (every script is safe to run twice: a nonce or a
generation makes a repeat harmless), `publisher` never does, because a repeated PUBLISH of a legacy
SSE message would run its tool call twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

SOCKET_TIMEOUT_SECONDS: Final = 0.25
CONNECT_TIMEOUT_SECONDS: Final = 0.5
POOL_WAIT_SECONDS: Final = 1.0
MAX_CONNECTIONS: Final = 32
RETRIES: Final = 2
HEALTH_CHECK_SECONDS: Final = 15
# RESP2: redis-py 8 speaks RESP3 by default and has no fallback when HELLO is refused
# (redis/redis-py#4089); Upstash's RESP3 support is unverified (distributed-state-notes.md §7).
PROTOCOL: Final = 2

# What a Redis call raises when the server cannot be used right now.
UNAVAILABLE: Final = (RedisError, OSError)


@dataclass(frozen=True, slots=True)
class RedisClients:
    """The process's clients: `commands` (retried) and `publisher` (never retried), each owning its pool."""

    commands: Redis
    publisher: Redis
    command_pool: BlockingConnectionPool

    async def aclose(self) -> None:
        await self.commands.aclose()
        await self.publisher.aclose()


def _pool(url: str, retry: Retry) -> BlockingConnectionPool:
    return BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=POOL_WAIT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_SECONDS,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        protocol=PROTOCOL,
    )


def connect(url: str) -> RedisClients:
    """Clients for `url` (`redis://` or `rediss://`); nothing connects until first use."""
    command_pool = _pool(url, Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.1), RETRIES))
    return RedisClients(
        commands=Redis.from_pool(command_pool),
        publisher=Redis.from_pool(_pool(url, Retry(NoBackoff(), 0))),
        command_pool=command_pool,
    )
