"""In-flight tool calls, so `notifications/cancelled` can stop the one it names.

Calls are keyed by a namespace (the SSE session, or the caller's credential on Streamable HTTP) and
the JSON-RPC request id, so one caller can never cancel another's call, not even one holding another
credential for the same key. The namespace is held as a digest, which is also what travels between
machines (`gateway.redis.cancellation`), so no session id or credential name leaves the process.
The digest is keyed with a server secret: a credential's fingerprint is in every access-log line,
and an unkeyed digest of it would let anyone holding the logs name that caller's calls.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Final

from gateway.protocol.cancel_scope import CallScope
from gateway.protocol.jsonrpc import RequestId

CallKey = tuple[str, RequestId]
# Cancels a call wherever it runs: this process's `InFlightCalls.cancel`, or a broadcast to every machine.
Canceller = Callable[[str, RequestId], Awaitable[None]]


# Namespaces whose digest is remembered (a caller's calls share one).
DIGESTS_REMEMBERED: Final = 4096
_DIGEST_BYTES: Final = 16


class InFlightCalls:
    """A registry of cancel scopes of running calls; `secret` keys the namespace digests (every
    machine must hold the same one, derived from `SECRET_KEYS`)."""

    def __init__(self, secret: bytes) -> None:
        self._scopes: dict[CallKey, CallScope] = {}
        self._secret = secret[:64]
        self.digest = functools.lru_cache(maxsize=DIGESTS_REMEMBERED)(self._digest)

    def _digest(self, namespace: str) -> str:
        """The name a namespace is kept and sent under."""
        return hashlib.blake2b(namespace.encode(), key=self._secret, digest_size=_DIGEST_BYTES).hexdigest()

    @contextmanager
    def track(self, namespace: str, request_id: RequestId) -> Iterator[CallScope]:
        """Run a call inside a cancel scope that `cancel` can reach while it runs."""
        key = (self.digest(namespace), request_id)
        with CallScope() as scope:
            self._scopes[key] = scope
            try:
                yield scope
            finally:
                if self._scopes.get(key) is scope:
                    del self._scopes[key]

    def cancel(self, namespace: str, request_id: RequestId) -> bool:
        """Cancel the named call; False when it is not running here (finished, unknown or someone else's)."""
        return self.cancel_digest(self.digest(namespace), request_id)

    def cancel_digest(self, digest: str, request_id: RequestId) -> bool:
        """`cancel`, for a namespace known only by its digest (a cancellation from another machine)."""
        scope = self._scopes.get((digest, request_id))
        if scope is None:
            return False
        scope.cancel()
        return True

    async def cancel_here(self, namespace: str, request_id: RequestId) -> None:
        """The `Canceller` of a single process."""
        self.cancel(namespace, request_id)

    def __len__(self) -> int:
        return len(self._scopes)
