"""Last used (issue 25): noted in a dict by the Bearer check, at most once a minute, written by a flush."""

from __future__ import annotations

from typing import Final

import pytest

from gateway.keys import ServerKeys
from oauth.connections import Connection, MemoryConnections, key_digest
from oauth.last_used import NOTE_INTERVAL_SECONDS, LastUsed

pytestmark = pytest.mark.anyio

KEYS: Final = ServerKeys((b"k" * 32,))
API_KEY: Final = "key-1"
START: Final = 1_800_000_000.0


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


async def _indexed() -> MemoryConnections:
    index = MemoryConnections(clock=lambda: START)
    connection = Connection(
        family="f",
        client_name="App",
        redirect_host="app.test",
        scopes=(),
        granted_at=START,
        expires_at=START + 99,
    )
    await index.add(key_digest(KEYS, API_KEY), connection)
    return index


async def _last_used(index: MemoryConnections) -> float | None:
    return (await index.list(key_digest(KEYS, API_KEY)))[0].last_used


async def test_a_use_is_written_only_when_flushed() -> None:
    index = await _indexed()
    recorder = LastUsed(index, KEYS, clock=lambda: START)
    recorder.note(API_KEY, "f")
    before = await _last_used(index)
    await recorder.flush()
    assert (before, await _last_used(index)) == (None, START)


async def test_uses_within_a_minute_are_noted_once() -> None:
    index = await _indexed()
    clock = Clock()
    recorder = LastUsed(index, KEYS, clock=clock)
    recorder.note(API_KEY, "f")
    await recorder.flush()
    clock.now += NOTE_INTERVAL_SECONDS - 1
    recorder.note(API_KEY, "f")
    await recorder.flush()
    assert await _last_used(index) == START


async def test_a_use_a_minute_later_is_noted_again() -> None:
    index = await _indexed()
    clock = Clock()
    recorder = LastUsed(index, KEYS, clock=clock)
    recorder.note(API_KEY, "f")
    clock.now += NOTE_INTERVAL_SECONDS
    recorder.note(API_KEY, "f")
    await recorder.flush()
    assert await _last_used(index) == START + NOTE_INTERVAL_SECONDS
