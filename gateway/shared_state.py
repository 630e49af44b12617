"""Where the facts that requests share live: in this process, or on Redis for several machines.

Nine facts outlive a request: the OAuth token state (`oauth.store.Store`), the sign-ins made with
each key (`oauth.connections.ConnectionIndex`) and their writes (`oauth.activity.ActivityLog`),
legacy-SSE delivery (`SessionBus`), cancellation of running calls, the per-key upstream pace
(`Pacer`), the OAuth throttle's windows, each grant's daily send allowance (`Allowance`) and the
sends waiting for a person (`tools.pending.PendingStore`). With `REDIS_URL` every one of them goes
through Redis (`gateway.redis`) and none of the in-memory versions is used; without it they all stay
here, for one process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.keys import ServerKeys
from gateway.protocol.inflight import Canceller, InFlightCalls
from gateway.settings import Settings
from gateway.transports.session_bus import MemorySessionBus, SessionBus
from oauth.activity import ActivityLog, MemoryActivity
from oauth.connections import ConnectionIndex, MemoryConnections
from oauth.store import MemoryStore, Store
from tools.allowance import Allowance, MemoryAllowance
from tools.pending import MemoryPendingStore, PendingStore
from tools.rate_limit import KeyedRateLimiter, Pacer

if TYPE_CHECKING:
    from limits.aio.storage import Storage

Check = Callable[[], Awaitable[bool]]


async def _nothing() -> None:
    """Start-up or shut-down for state that needs none."""


@dataclass(frozen=True, slots=True)
class SharedState:
    """The shared facts' implementations, and how to start and stop them (in the app's lifespan)."""

    store: Store
    # The sign-ins made with each key, for the "Connected apps" page.
    connections: ConnectionIndex
    # The last writes made with each key, for the same page.
    activity: ActivityLog
    bus: SessionBus
    cancel: Canceller
    pacer: Pacer
    pending: PendingStore
    # None: the throttle keeps its windows in this process (and loads `limits` only when first used).
    throttle_storage: Storage | None
    allowance: Allowance
    # Readiness checks by name: `/readyz` answers 503 naming the one that fails.
    checks: dict[str, Check]
    start: Callable[[], Awaitable[None]] = field(default=_nothing)
    aclose: Callable[[], Awaitable[None]] = field(default=_nothing)


def build_shared_state(
    settings: Settings, keys: ServerKeys, inflight: InFlightCalls, bus: SessionBus | None = None
) -> SharedState:
    """The state `settings` asks for: on Redis when `REDIS_URL` is set, else in this process."""
    if settings.redis_url is not None:
        # Imported only when used: a single process never loads the Redis client.
        from gateway.redis.wiring import redis_state

        return redis_state(settings.redis_url.get_secret_value(), settings, keys, inflight)
    store = MemoryStore()
    return SharedState(
        store=store,
        connections=MemoryConnections(),
        activity=MemoryActivity(),
        bus=bus or MemorySessionBus(),
        cancel=inflight.cancel_here,
        pacer=KeyedRateLimiter(settings.upstream_rate_limit),
        pending=MemoryPendingStore(),
        throttle_storage=None,
        allowance=MemoryAllowance(),
        checks={"store": store.ping},
    )
