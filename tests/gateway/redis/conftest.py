"""Fixtures of the Redis tests: one process's clients on the test Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.redis.connection import RedisClients, connect


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[RedisClients]:
    """This process's Redis clients, closed after the test."""
    opened = connect(redis_url)
    try:
        yield opened
    finally:
        await opened.aclose()
