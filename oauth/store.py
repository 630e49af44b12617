"""OAuth 2.1 §4.3.1 (https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1#section-4.3.1): token state.

Sealed tokens carry everything they grant, so the server remembers only what a token cannot say
about itself: which authorization codes were spent (single use, §4.1.2), which generation of each
sign-in's refresh token is current (rotation with reuse detection, §4.3.1), and what was revoked
(RFC 7009). A sign-in is a *family*, named by the code that started it; each refresh token carries
its generation, so concurrent refreshes of one token yield one rotation and every caller a token of
the new generation.

`Store` is that state behind one interface: `MemoryStore` keeps it in this process, and
`gateway.redis.store.RedisStore` shares it between machines. A family ban is written with the
family's whole lifetime, so it outlives every token the family minted; a state lost (a restarted
process, a wiped Redis) lets a family carry on from the token presented, as a process restart always
has.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Final, NamedTuple, Protocol

# The smallest table that triggers a sweep of expired records; see Expiring.
MIN_PRUNE_ENTRIES: Final = 1024

# Called with each revocation as it applies in this process: `token_revocation` or `family_revocation`.
RevocationListener = Callable[[str], None]


def token_revocation(jti: str) -> str:
    """How a revoked token is named, in the store, on Redis and to a `RevocationListener`."""
    return f"t:{jti}"


def family_revocation(family: str) -> str:
    """How a revoked sign-in (refresh family) is named."""
    return f"f:{family}"


class RefreshOutcome(StrEnum):
    """What presenting a refresh token meant for its family."""

    FRESH = "fresh"  # the current generation: rotated, mint the next one
    GRACE = "grace"  # the previous generation moments after it rotated (a concurrent refresh)
    REUSED = "reused"  # an older generation: a replay, and the family is now revoked
    REVOKED = "revoked"  # the family was already revoked


class Rotation(NamedTuple):
    """A refresh's outcome and, for FRESH and GRACE, the generation of the refresh token to mint."""

    outcome: RefreshOutcome
    generation: int


class StoreUnavailable(Exception):
    """Raised when the shared state cannot be reached now; nothing was decided, try again later."""


class Store(Protocol):
    """The server's token state. Every ttl and grace is in seconds and must be positive (grace ≥ 0)."""

    async def redeem_code(self, family: str, *, code_ttl: float, family_ttl: float) -> bool:
        """True the first time a code (named by `family`) is redeemed; a replay revokes the family
        for `family_ttl` and returns False. Raises StoreUnavailable."""
        ...

    async def spend_once(self, name: str, ttl: float) -> bool:
        """True the first time `name` is spent, False every later time until `ttl` runs out.
        Raises StoreUnavailable."""
        ...

    async def rotate_refresh(
        self, family: str, generation: int, *, grace: float, family_ttl: float
    ) -> Rotation:
        """Present a refresh token of `generation`; reuse outside `grace` revokes the family for
        `family_ttl`. Raises StoreUnavailable."""
        ...

    async def revoke_token(self, jti: str, ttl: float) -> None:
        """Revoke one token for `ttl` (its remaining lifetime). Raises StoreUnavailable."""
        ...

    async def revoke_family(self, family: str, ttl: float) -> None:
        """Revoke every token of a family for `ttl` (the family's lifetime). Raises StoreUnavailable."""
        ...

    def is_revoked(self, jti: str, family: str | None) -> bool:
        """Whether the token or its family is revoked, answered locally: it never waits on a network."""
        ...

    def on_revoked(self, listener: RevocationListener) -> None:
        """Call `listener` with every revocation applied from now on, made here or on any machine."""
        ...

    async def ping(self) -> bool:
        """True if the store can be used now (readiness)."""
        ...


class Expiring:
    """A table of keys with expiry times, swept when it has doubled since the last sweep, so memory
    stays within about twice the live entries at amortised constant cost per write."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._expires: dict[str, float] = {}
        self._prune_at = MIN_PRUNE_ENTRIES

    def __len__(self) -> int:
        return len(self._expires)

    def live(self, key: str) -> bool:
        expires = self._expires.get(key)
        if expires is None:
            return False
        if self._clock() < expires:
            return True
        del self._expires[key]
        return False

    def extend(self, key: str, expires_at: float) -> None:
        """Live until `expires_at`, never shortening what is already there."""
        if expires_at > self._expires.get(key, expires_at - 1):
            self._expires[key] = expires_at
        if len(self._expires) >= self._prune_at:
            now = self._clock()
            self._expires = {key: at for key, at in self._expires.items() if now < at}
            self._prune_at = max(MIN_PRUNE_ENTRIES, 2 * len(self._expires))

    def discard(self, key: str) -> None:
        self._expires.pop(key, None)


class MemoryStore:
    """`Store` in this process's memory, for one machine.

    Methods never await between reading and writing, so concurrent asyncio tasks see each operation
    as atomic, as the Redis scripts are. Every table drops entries as they expire.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._codes = Expiring(clock)
        self._spent = Expiring(clock)
        self._revoked = Expiring(clock)
        self._families = Expiring(clock)
        # family -> (current generation, when it rotated); an entry lives while `_families` says so.
        self._generations: dict[str, tuple[int, float]] = {}
        self._listener: RevocationListener | None = None

    def __len__(self) -> int:
        """How many records are held, expired or not (for tests and metrics)."""
        return len(self._codes) + len(self._spent) + len(self._revoked) + len(self._families)

    async def redeem_code(self, family: str, *, code_ttl: float, family_ttl: float) -> bool:
        now = self._positive(code_ttl, family_ttl)
        if self._codes.live(family):
            # RFC 6749 §4.1.2: a code used twice revokes the tokens it was exchanged for.
            self._ban(family, now + family_ttl)
            return False
        self._codes.extend(family, now + code_ttl)
        self._set_generation(family, 1, 0.0, now + family_ttl)
        return True

    async def spend_once(self, name: str, ttl: float) -> bool:
        now = self._positive(ttl)
        if self._spent.live(name):
            return False
        self._spent.extend(name, now + ttl)
        return True

    async def rotate_refresh(
        self, family: str, generation: int, *, grace: float, family_ttl: float
    ) -> Rotation:
        now = self._positive(family_ttl)
        if self._revoked.live(family_revocation(family)):
            return Rotation(RefreshOutcome.REVOKED, 0)
        current = self._generations.get(family) if self._families.live(family) else None
        if current is None or generation == current[0]:
            self._set_generation(family, generation + 1, now, now + family_ttl)
            return Rotation(RefreshOutcome.FRESH, generation + 1)
        latest, rotated_at = current
        if generation == latest - 1 and now - rotated_at <= grace:
            return Rotation(RefreshOutcome.GRACE, latest)
        # OAuth 2.1 §4.3.1: an older refresh token presented again means one party replays it.
        self._ban(family, now + family_ttl)
        return Rotation(RefreshOutcome.REUSED, latest)

    async def revoke_token(self, jti: str, ttl: float) -> None:
        self._revoked.extend(token_revocation(jti), self._positive(ttl) + ttl)
        self._announce(token_revocation(jti))

    async def revoke_family(self, family: str, ttl: float) -> None:
        self._ban(family, self._positive(ttl) + ttl)

    def is_revoked(self, jti: str, family: str | None) -> bool:
        return self._revoked.live(token_revocation(jti)) or (
            family is not None and self._revoked.live(family_revocation(family))
        )

    def on_revoked(self, listener: RevocationListener) -> None:
        self._listener = listener

    async def ping(self) -> bool:
        return True

    def _ban(self, family: str, until: float) -> None:
        self._revoked.extend(family_revocation(family), until)
        self._families.discard(family)
        self._generations.pop(family, None)
        self._announce(family_revocation(family))

    def _announce(self, revocation: str) -> None:
        if self._listener is not None:
            self._listener(revocation)

    def _set_generation(self, family: str, generation: int, rotated_at: float, until: float) -> None:
        self._families.extend(family, until)
        if len(self._generations) > 2 * len(self._families):
            self._generations = {
                key: value for key, value in self._generations.items() if self._families.live(key)
            }
        self._generations[family] = (generation, rotated_at)

    def _positive(self, *ttls: float) -> float:
        if any(ttl <= 0 for ttl in ttls):
            raise ValueError("a ttl must be positive")
        return self._clock()
