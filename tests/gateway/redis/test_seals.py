"""`gateway/redis/seals.py`: a message sealed for a channel opens there, once, while fresh, and
nothing else opens; revocation members verify only with a gateway's MAC."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.keys import ServerKeys
from gateway.redis.seals import FRESH_SECONDS, ChannelSeal, RefusedMessage, RevocationTags

KEYS = ServerKeys((b"k" * 32,))
MAX_BYTES = 4096


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_sealed_message_opens_on_its_channel() -> None:
    seal = ChannelSeal(KEYS, "test", MAX_BYTES)
    assert seal.open("sse:1", seal.seal("sse:1", b'{"id":1}')) == b'{"id":1}'


@given(st.binary(max_size=2048), st.from_regex(r"[a-z:0-9]{1,40}", fullmatch=True))
def test_every_payload_round_trips(payload: bytes, channel: str) -> None:
    seal = ChannelSeal(KEYS, "test", MAX_BYTES)
    assert seal.open(channel, seal.seal(channel, payload)) == payload


def test_a_payload_of_the_largest_size_opens() -> None:
    """joserfc refuses ciphertexts over 64 KiB by default; a seal raises that bound to its own."""
    seal = ChannelSeal(KEYS, "test", 256 * 1024)
    payload = b"x" * (256 * 1024)
    assert seal.open("sse:1", seal.seal("sse:1", payload)) == payload


def test_the_sealed_form_does_not_show_the_payload() -> None:
    sealed = ChannelSeal(KEYS, "test", MAX_BYTES).seal("sse:1", b"my secret text 1234")
    assert b"secret" not in sealed


def test_a_message_opened_twice_is_refused_the_second_time() -> None:
    seal = ChannelSeal(KEYS, "test", MAX_BYTES)
    sealed = seal.seal("sse:1", b"x")
    seal.open("sse:1", sealed)
    with pytest.raises(RefusedMessage, match="replayed"):
        seal.open("sse:1", sealed)


def test_a_message_moved_to_another_channel_is_refused() -> None:
    seal = ChannelSeal(KEYS, "test", MAX_BYTES)
    with pytest.raises(RefusedMessage, match="sealed for another channel"):
        seal.open("sse:2", seal.seal("sse:1", b"x"))


def test_a_stale_message_is_refused() -> None:
    clock = Clock()
    seal = ChannelSeal(KEYS, "test", MAX_BYTES, clock=clock)
    sealed = seal.seal("sse:1", b"x")
    clock.now += FRESH_SECONDS + 1
    with pytest.raises(RefusedMessage, match="stale"):
        seal.open("sse:1", sealed)


@pytest.mark.parametrize(
    "sealed",
    [
        pytest.param(b'{"jsonrpc":"2.0","id":777,"method":"tools/call"}', id="plain-json"),
        pytest.param(b"\xff\xfe", id="not-ascii"),
        pytest.param(b"", id="empty"),
        pytest.param(
            ChannelSeal(ServerKeys((b"x" * 32,)), "test", MAX_BYTES).seal("sse:1", b"x"), id="another-key"
        ),
        pytest.param(ChannelSeal(KEYS, "other", MAX_BYTES).seal("sse:1", b"x"), id="another-purpose"),
    ],
)
def test_what_no_gateway_sealed_does_not_open(sealed: bytes) -> None:
    with pytest.raises(RefusedMessage, match="does not open"):
        ChannelSeal(KEYS, "test", MAX_BYTES).open("sse:1", sealed)


def test_a_tampered_message_does_not_open() -> None:
    seal = ChannelSeal(KEYS, "test", MAX_BYTES)
    sealed = bytearray(seal.seal("sse:1", b"hello"))
    sealed[-30] = ord("A") if sealed[-30] != ord("A") else ord("B")
    with pytest.raises(RefusedMessage, match="does not open"):
        seal.open("sse:1", bytes(sealed))


def test_a_message_sealed_under_the_previous_key_opens_after_rotation() -> None:
    old = ChannelSeal(ServerKeys((b"k" * 32,)), "test", MAX_BYTES)
    rotated = ChannelSeal(ServerKeys((b"n" * 32, b"k" * 32)), "test", MAX_BYTES)
    assert rotated.open("sse:1", old.seal("sse:1", b"x")) == b"x"


def test_a_dropped_message_is_logged_without_its_content(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.redis.seals"), pytest.raises(RefusedMessage):
        ChannelSeal(KEYS, "legacy-session", MAX_BYTES).open("sse:1", b"my secret text 1234")
    assert [record.getMessage() for record in caplog.records] == [
        "dropped 1 legacy-session message(s) read from Redis that no gateway sealed (last: does not open)"
    ]


def test_a_tagged_member_verifies_and_an_untagged_one_does_not() -> None:
    tags = RevocationTags(KEYS)
    assert (tags.verify(tags.tag("f:fam-1")), tags.verify("f:fam-1")) == ("f:fam-1", None)
