"""The local mirror of revocations (`gateway/redis/revocations.py`): what it takes from the channel
and the index, and what it refuses."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from gateway.keys import ServerKeys
from gateway.redis.connection import RedisClients, connect
from gateway.redis.revocations import RevocationMirror
from gateway.redis.scripts import REVOCATION_INDEX
from gateway.redis.seals import RevocationTags
from tests.redis_server import RedisServer
from tests.toolkit import eventually

pytestmark = pytest.mark.anyio

TAGS = RevocationTags(ServerKeys((b"k" * 32,)))
LONGEST_SECONDS = 7200.0


@pytest.fixture
async def mirror(redis_url: str) -> AsyncIterator[RevocationMirror]:
    clients: RedisClients = connect(redis_url)
    mirror = RevocationMirror(clients.commands, TAGS, LONGEST_SECONDS)
    try:
        yield mirror
    finally:
        await mirror.aclose()
        await clients.aclose()


def in_seconds_ms(seconds: float) -> bytes:
    return str(int((time.time() + seconds) * 1000)).encode()


def published(member: str, seconds: float = 3600) -> bytes:
    return TAGS.tag(member).encode() + b" " + in_seconds_ms(seconds)


async def test_a_published_family_revocation_applies_to_its_tokens(mirror: RevocationMirror) -> None:
    mirror.on_message(published("f:fam-1"))
    assert (mirror.is_revoked("any-jti", "fam-1"), mirror.is_revoked("any-jti", "fam-2")) == (True, False)


async def test_a_published_token_revocation_applies_to_that_token_only(mirror: RevocationMirror) -> None:
    mirror.on_message(published("t:jti-1"))
    assert (mirror.is_revoked("jti-1", None), mirror.is_revoked("jti-2", None)) == (True, False)


async def test_an_expired_revocation_does_not_apply(mirror: RevocationMirror) -> None:
    mirror.on_message(published("t:jti-1", -1))
    assert mirror.is_revoked("jti-1", None) is False


async def test_a_revocation_tagged_under_an_older_key_still_applies(redis_url: str) -> None:
    """SECRET_KEYS rotation: the machines' ring has a new first key, the publisher still the old one."""
    clients = connect(redis_url)
    rotated = RevocationTags(ServerKeys((b"n" * 32, b"k" * 32)))
    try:
        mirror = RevocationMirror(clients.commands, rotated, LONGEST_SECONDS)
        mirror.on_message(published("f:fam-1"))
        assert mirror.is_revoked("jti", "fam-1") is True
    finally:
        await clients.aclose()


async def test_a_revocation_claiming_a_later_expiry_is_held_only_as_long_as_a_sign_in_lives(
    redis_url: str,
) -> None:
    clock = [1_000_000.0]
    clients = connect(redis_url)
    try:
        mirror = RevocationMirror(clients.commands, TAGS, LONGEST_SECONDS, clock=lambda: clock[0])
        far_future_ms = str(int((clock[0] + 100 * 365 * 86400) * 1000)).encode()
        mirror.on_message(TAGS.tag("f:fam-1").encode() + b" " + far_future_ms)
        clock[0] += LONGEST_SECONDS - 1
        assert mirror.is_revoked("jti", "fam-1") is True
        clock[0] += 2
        assert mirror.is_revoked("jti", "fam-1") is False
    finally:
        await clients.aclose()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"f:fam-1 " + in_seconds_ms(3600), id="untagged"),
        pytest.param(
            TAGS.tag("f:fam-2").replace("fam-2", "fam-1").encode() + b" " + in_seconds_ms(3600),
            id="another-members-tag",
        ),
        pytest.param(
            RevocationTags(ServerKeys((b"x" * 32,))).tag("f:fam-1").encode() + b" " + in_seconds_ms(3600),
            id="tagged-under-another-key",
        ),
        pytest.param(b"\xff\xfe 123", id="not-utf8"),
        pytest.param(TAGS.tag("f:fam-1").encode(), id="no-expiry"),
        pytest.param(TAGS.tag("f:fam-1").encode() + " ١٢٣".encode(), id="arabic-indic-digits"),
        pytest.param(b"", id="empty"),
    ],
)
async def test_a_forged_or_malformed_message_is_dropped(mirror: RevocationMirror, data: bytes) -> None:
    mirror.on_message(data)
    assert mirror.is_revoked("jti", "fam-1") is False


async def test_each_revocation_noted_is_told_to_the_listener(mirror: RevocationMirror) -> None:
    """Issue 24 #9: how a machine hears that the streams of a revoked grant must close; a message
    without an expiry or without its MAC tells nothing."""
    heard: list[str] = []
    mirror.on_revoked(heard.append)
    mirror.on_message(published("f:fam-1"))
    mirror.note("t:jti-1", int((time.time() + 60) * 1000))
    mirror.on_message(TAGS.tag("f:fam-2").encode())
    mirror.on_message(b"f:fam-3 " + in_seconds_ms(3600))
    assert heard == ["f:fam-1", "t:jti-1"]


async def test_a_forged_member_in_the_index_is_not_read_back(
    mirror: RevocationMirror, redis_server: RedisServer
) -> None:
    expires = int((time.time() + 3600) * 1000)
    redis_server.client().zadd(REVOCATION_INDEX, {"f:forged": expires, TAGS.tag("f:genuine"): expires})
    mirror.on_subscribed()

    async def read_back() -> bool:
        return mirror.is_revoked("jti", "genuine")

    await eventually(read_back, 5)
    assert mirror.is_revoked("jti", "forged") is False
