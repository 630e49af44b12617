"""The local mirror of revocations (`gateway/redis/revocations.py`): what it takes from the channel."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from gateway.redis.connection import RedisClients, connect
from gateway.redis.revocations import RevocationMirror

pytestmark = pytest.mark.anyio


@pytest.fixture
async def mirror(redis_url: str) -> AsyncIterator[RevocationMirror]:
    clients: RedisClients = connect(redis_url)
    try:
        yield RevocationMirror(clients.commands)
    finally:
        await clients.aclose()


def in_an_hour_ms() -> bytes:
    return str(int((time.time() + 3600) * 1000)).encode()


async def test_a_published_family_revocation_applies_to_its_tokens(mirror: RevocationMirror) -> None:
    mirror.on_message(b"f:fam-1 " + in_an_hour_ms())
    assert (mirror.is_revoked("any-jti", "fam-1"), mirror.is_revoked("any-jti", "fam-2")) == (True, False)


async def test_a_published_token_revocation_applies_to_that_token_only(mirror: RevocationMirror) -> None:
    mirror.on_message(b"t:jti-1 " + in_an_hour_ms())
    assert (mirror.is_revoked("jti-1", None), mirror.is_revoked("jti-2", None)) == (True, False)


async def test_an_expired_revocation_does_not_apply(mirror: RevocationMirror) -> None:
    mirror.on_message(b"t:jti-1 " + str(int((time.time() - 1) * 1000)).encode())
    assert mirror.is_revoked("jti-1", None) is False


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xfe 123", id="not-utf8"),
        pytest.param(b"f:fam-1", id="no-expiry"),
        pytest.param("f:fam-1 ١٢٣".encode(), id="arabic-indic-digits"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_a_malformed_message_is_ignored(mirror: RevocationMirror, data: bytes) -> None:
    mirror.on_message(data)
    assert mirror.is_revoked("jti", "fam-1") is False


async def test_each_revocation_noted_is_told_to_the_listener(mirror: RevocationMirror) -> None:
    """Issue 24 #9: how a machine hears that the streams of a revoked grant must close."""
    heard: list[str] = []
    mirror.on_revoked(heard.append)
    mirror.on_message(b"f:fam-1 " + in_an_hour_ms())
    mirror.note("t:jti-1", int((time.time() + 60) * 1000))
    mirror.on_message(b"f:fam-2")
    assert heard == ["f:fam-1", "t:jti-1"]
