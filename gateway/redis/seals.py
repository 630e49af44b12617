"""What makes Redis a carrier the gateway need not trust: every message the machines exchange
through it is sealed or tagged with keys derived from `SECRET_KEYS`, which Redis never sees.

- `ChannelSeal`: a pub/sub message encrypted and authenticated (JWE "dir"/"A256GCM",
  `oauth.sealing.SealRing`), bound to its channel, to when it was sealed and to a nonce. A reader of
  Redis learns nothing from it; a writer can neither forge one, move one to another channel, nor
  replay one (too old, or its nonce already seen).
- `RevocationTags`: a revocation's member (`f:<family>`, `t:<jti>`) with a MAC. The Lua scripts
  publish and index tagged members as they are, so a writer cannot add revocations of its own.

The current key seals and tags, every key of the ring opens and verifies, so `SECRET_KEYS` rotates
without dropping messages. What does not open is dropped, and logged at WARNING without its content.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

from gateway.keys import ServerKeys
from oauth.errors import InvalidToken
from oauth.sealing import SealRing

logger = logging.getLogger(__name__)

# How far a message's sealing time may be from the receiver's clock: machines' clocks (NTP) and
# pub/sub delivery take milliseconds; a replay must come within this window, where its nonce is known.
FRESH_SECONDS: Final = 10.0
# Nonces of messages opened within FRESH_SECONDS, oldest first (about 120 bytes each).
NONCES_REMEMBERED: Final = 32768
# A flood of forged messages is logged once per this many seconds, with the count dropped meanwhile.
DROP_LOG_SECONDS: Final = 5.0
_NONCE_BYTES: Final = 12
# What a seal adds in front of the payload: the channel, the time and the nonce.
_HEAD_BYTES: Final = 256
TAG_HEX_CHARS: Final = 32


class RefusedMessage(Exception):
    """Raised when a message read from Redis was not sealed by a gateway for this channel, now."""


class ChannelSeal:
    """Seals and opens the messages of one purpose (`purpose` picks the derived key ring), of at most
    `max_payload_bytes` each."""

    def __init__(
        self,
        keys: ServerKeys,
        purpose: str,
        max_payload_bytes: int,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ring = SealRing(keys.derive(f"redis-{purpose}"), max_payload_bytes + _HEAD_BYTES)
        self._clock = clock
        self._monotonic = monotonic
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._drops = DropLog(f"{purpose} message", monotonic)

    def seal(self, channel: str, payload: bytes) -> bytes:
        """`payload` sealed for `channel`, now, under a fresh nonce."""
        nonce = secrets.token_urlsafe(_NONCE_BYTES)
        head = f"{channel} {int(self._clock() * 1000)} {nonce}\n".encode()
        return self._ring.seal(head + payload).encode()

    def open(self, channel: str, sealed: bytes) -> bytes:
        """The payload of a message sealed for `channel` within FRESH_SECONDS and not opened before.

        Raises RefusedMessage (and counts it for the next warning)."""
        try:
            plaintext = self._ring.open(sealed.decode("ascii"))
            head, _, payload = plaintext.partition(b"\n")
            bound, sealed_ms, nonce = head.decode().split(" ")
            age = self._clock() - int(sealed_ms) / 1000
        except (InvalidToken, UnicodeDecodeError, ValueError):
            raise self._refused("does not open") from None
        if bound != channel:
            raise self._refused("sealed for another channel")
        if abs(age) > FRESH_SECONDS:
            raise self._refused("stale")
        if not self._first_sight(nonce):
            raise self._refused("replayed")
        return payload

    def _first_sight(self, nonce: str) -> bool:
        now = self._monotonic()
        while self._seen and (next(iter(self._seen.values())) < now or len(self._seen) >= NONCES_REMEMBERED):
            self._seen.popitem(last=False)
        if nonce in self._seen:
            return False
        self._seen[nonce] = now + 2 * FRESH_SECONDS
        return True

    def _refused(self, reason: str) -> RefusedMessage:
        self._drops.drop(reason)
        return RefusedMessage(reason)


class DropLog:
    """Logs what was dropped at WARNING, by kind and reason only (never content), at most once per
    DROP_LOG_SECONDS with the count since, so a flood of forgeries cannot flood the log."""

    def __init__(self, kind: str, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._kind = kind
        self._monotonic = monotonic
        self._dropped = 0
        self._warned_at = -DROP_LOG_SECONDS

    def drop(self, reason: str) -> None:
        self._dropped += 1
        now = self._monotonic()
        if now - self._warned_at >= DROP_LOG_SECONDS:
            logger.warning(
                "dropped %d %s(s) read from Redis that no gateway sealed (last: %s)",
                self._dropped,
                self._kind,
                reason,
            )
            self._dropped = 0
            self._warned_at = now


class RevocationTags:
    """MACs on revocation members, so only a gateway can add to every machine's revoked set."""

    def __init__(self, keys: ServerKeys) -> None:
        self._ring = keys.derive("redis-revocation")

    def tag(self, member: str) -> str:
        """`member` with its MAC under the current key (members never contain a '.')."""
        return f"{member}.{_mac(self._ring[0], member)}"

    def verify(self, tagged: str) -> str | None:
        """The member of a genuine tagged member, or None."""
        member, _, tag = tagged.rpartition(".")
        # Bytes: compare_digest refuses str with non-ASCII characters, which a forger may send.
        presented = tag.encode()
        if not any(hmac.compare_digest(_mac(key, member).encode(), presented) for key in self._ring):
            return None
        return member


def _mac(key: bytes, member: str) -> str:
    return hmac.new(key, member.encode(), hashlib.sha256).hexdigest()[:TAG_HEX_CHARS]
