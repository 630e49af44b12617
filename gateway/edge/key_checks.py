"""A throttle on failed OpenPhone key checks, so /mcp is neither a key-validity oracle nor a relay.

A raw key (`x-openphone-api-key`) is checked by OpenPhone on the first call that needs it, and the
answer "OpenPhone rejected the API key" tells a guess from a real key. Consent throttles that check
per address (`oauth/throttle.py`); /mcp did not, so made-up keys could be tried, or sent to
OpenPhone through the gateway, without bound, until the gateway's address was blocked for every
user (second review #8). Two bounds:

- each key OpenPhone rejects is remembered by its fingerprint (never the key) for
  `REJECTED_KEY_SECONDS`: calls with it get the same answer without asking OpenPhone again;
- each rejection counts against the address that presented the key: past `per_minute` in a minute,
  that address's raw-key requests get 429 with Retry-After. Only new rejections count, so a client
  repeating one bad key (answered from memory) does not lock out its neighbours behind one NAT, and
  a key OpenPhone has accepted is never held back by its address: only unproven keys are, and
  they alone cost a look at the windows (a Redis round trip with `REDIS_URL`).

The windows are `limits`' moving windows, shared through Redis like the OAuth throttle's; a storage
that fails lets the request through, as there.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from functools import cached_property
from typing import TYPE_CHECKING, Final, TypeVar

from gateway.edge.client_address import rate_limit_key
from gateway.errors import HTTPError
from gateway.keys import ServerKeys

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage
    from limits.aio.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

REJECTED_KEY_SECONDS: Final = 60.0
# Fingerprints remembered, of each kind (rejected, accepted, presented but not yet judged); oldest
# dropped first.
REMEMBERED_KEYS: Final = 4096
_NAMESPACE: Final = "key-check"
T = TypeVar("T")


class KeyChecks:
    """Rejected keys by fingerprint, and `per_minute` rejections per client address."""

    def __init__(self, keys: ServerKeys, per_minute: int, storage: Storage | None = None) -> None:
        """`storage` None keeps the windows in this process."""
        self._keys = keys
        self._per_minute = per_minute
        self._storage = storage
        self._rejected: OrderedDict[str, float] = OrderedDict()
        self._accepted: OrderedDict[str, bool] = OrderedDict()
        self._presented: OrderedDict[str, str] = OrderedDict()

    @cached_property
    def _item(self) -> RateLimitItem:
        from limits import RateLimitItemPerMinute

        return RateLimitItemPerMinute(self._per_minute)

    @cached_property
    def _limiter(self) -> MovingWindowRateLimiter:
        from limits.aio.storage import MemoryStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        return MovingWindowRateLimiter(self._storage or MemoryStorage())

    async def admit(self, fingerprint: str, client_ip: str) -> None:
        """Let a raw-key request from `client_ip` through, or refuse it with 429 (with Retry-After)."""
        if fingerprint in self._accepted:
            return
        from limits.errors import StorageError

        address = rate_limit_key(client_ip)
        try:
            if not await self._limiter.test(self._item, _NAMESPACE, address):
                stats = await self._limiter.get_window_stats(self._item, _NAMESPACE, address)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise HTTPError(
                    429,
                    "OpenPhone rejected too many API keys from this address; try again later.",
                    {"retry-after": str(retry_after)},
                    error="too_many_requests",
                )
        except StorageError as exc:
            logger.warning(
                "key-check limit not applied: its storage failed (%s)", type(exc.storage_error).__name__
            )
        _remember(self._presented, fingerprint, address)

    def recently_rejected(self, api_key: str) -> bool:
        """Whether OpenPhone rejected `api_key` in the last `REJECTED_KEY_SECONDS`."""
        if not self._rejected:
            return False
        until = self._rejected.get(self._keys.fingerprint(api_key))
        return until is not None and until > time.monotonic()

    def accepted(self, api_key: str) -> None:
        """OpenPhone answered a request made with `api_key`: its caller is no longer held back."""
        fingerprint = self._keys.fingerprint(api_key)
        if fingerprint in self._accepted:
            self._accepted.move_to_end(fingerprint)
            return
        _remember(self._accepted, fingerprint, True)
        self._presented.pop(fingerprint, None)

    async def rejected(self, api_key: str) -> None:
        """OpenPhone rejected `api_key`: remember it, and count it against the address that sent it."""
        from limits.errors import StorageError

        fingerprint = self._keys.fingerprint(api_key)
        self._accepted.pop(fingerprint, None)
        _remember(self._rejected, fingerprint, time.monotonic() + REJECTED_KEY_SECONDS)
        address = self._presented.pop(fingerprint, None)
        if address is None:
            return
        try:
            await self._limiter.hit(self._item, _NAMESPACE, address)
        except StorageError as exc:
            logger.warning(
                "key-check limit not counted: its storage failed (%s)", type(exc.storage_error).__name__
            )


def _remember(table: OrderedDict[str, T], fingerprint: str, value: T) -> None:
    table[fingerprint] = value
    table.move_to_end(fingerprint)
    if len(table) > REMEMBERED_KEYS:
        table.popitem(last=False)
