"""In-flight tool calls, so `notifications/cancelled` can stop the one it names.

Calls are keyed by a namespace (the SSE session, or the principal's credential on Streamable HTTP)
and the JSON-RPC request id, so one caller can never cancel another's call, not even one holding
another credential for the same key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anyio

from gateway.jsonrpc import RequestId

CallKey = tuple[str, RequestId]


class InFlightCalls:
    """A registry of cancel scopes of running calls."""

    def __init__(self) -> None:
        self._scopes: dict[CallKey, anyio.CancelScope] = {}

    @contextmanager
    def track(self, namespace: str, request_id: RequestId) -> Iterator[anyio.CancelScope]:
        """Run a call inside a cancel scope that `cancel` can reach while it runs."""
        key = (namespace, request_id)
        with anyio.CancelScope() as scope:
            self._scopes[key] = scope
            try:
                yield scope
            finally:
                if self._scopes.get(key) is scope:
                    del self._scopes[key]

    def cancel(self, namespace: str, request_id: RequestId) -> bool:
        """Cancel the named call; False when it is not running (finished, unknown or someone else's)."""
        scope = self._scopes.get((namespace, request_id))
        if scope is None:
            return False
        scope.cancel()
        return True

    def __len__(self) -> int:
        return len(self._scopes)
