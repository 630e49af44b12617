"""Builds every Redis-backed part from one URL, and starts and stops them with the app."""

from __future__ import annotations

from typing import Any

from limits.aio.storage import RedisStorage

from gateway.keys import ServerKeys
from gateway.protocol.inflight import InFlightCalls
from gateway.redis.activity import RedisActivity
from gateway.redis.allowance import RedisAllowance
from gateway.redis.cancellation import CANCEL_CHANNEL, Cancellations
from gateway.redis.connection import connect
from gateway.redis.connections import RedisConnections
from gateway.redis.pacer import RedisPacer
from gateway.redis.pending import RedisPendingStore
from gateway.redis.pubsub import Channel, PubSubHub
from gateway.redis.revocations import RevocationMirror
from gateway.redis.scripts import REVOCATIONS_CHANNEL, Scripts
from gateway.redis.seals import RevocationTags
from gateway.redis.session_bus import RedisSessionBus
from gateway.redis.store import RedisStore
from gateway.settings import Settings
from gateway.shared_state import SharedState
from oauth.tokens import Lifetimes
from tools.rate_limit import KeyedRateLimiter

THROTTLE_KEY_PREFIX = "gw:lim"
# The legacy sessions' hub is connected once this channel, which nobody publishes to, is confirmed.
SESSIONS_HUB_CHANNEL = "gw:sessions"


def _ignore(data: bytes) -> None:
    """A message on `SESSIONS_HUB_CHANNEL`: none is ever sent, and any is meaningless."""


def redis_state(url: str, settings: Settings, keys: ServerKeys, inflight: InFlightCalls) -> SharedState:
    """The shared state on the Redis at `url`; nothing connects before `start`."""
    clients = connect(url)
    tags = RevocationTags(keys)
    scripts = Scripts(clients.commands, tags)
    lifetimes = Lifetimes(
        refresh=settings.refresh_token_seconds, refresh_grace=settings.refresh_grace_seconds
    )
    mirror = RevocationMirror(clients.commands, tags, lifetimes.family)
    cancellations = Cancellations(inflight, clients.publisher, keys)
    # Two connections: what every machine needs on one, the sessions' traffic (which callers
    # choose) on the other, so filling the second cannot make a machine miss a revocation.
    control = PubSubHub(
        clients.commands,
        {
            REVOCATIONS_CHANNEL: Channel(mirror.on_message, mirror.on_subscribed),
            CANCEL_CHANNEL: Channel(cancellations.on_message),
        },
        name="control subscriber",
    )
    sessions = PubSubHub(
        clients.commands, {SESSIONS_HUB_CHANNEL: Channel(_ignore)}, name="legacy-session subscriber"
    )
    store = RedisStore(clients.commands, scripts, mirror, lambda: control.connected)
    pacer = RedisPacer(
        scripts, keys.derive("upstream-pacer")[0], KeyedRateLimiter(settings.upstream_rate_limit)
    )
    # `limits` types its pass-through options narrowly; the redispy storage takes a pool (its docs).
    throttle_options: dict[str, Any] = {"connection_pool": clients.command_pool}
    throttle_storage = RedisStorage(
        url,
        implementation="redispy",
        key_prefix=THROTTLE_KEY_PREFIX,
        wrap_exceptions=True,
        **throttle_options,
    )

    async def start() -> None:
        control.start()
        sessions.start()

    async def aclose() -> None:
        await sessions.aclose()
        await control.aclose()
        await mirror.aclose()
        await clients.aclose()

    return SharedState(
        store=store,
        bus=RedisSessionBus(sessions, clients.publisher, keys),
        connections=RedisConnections(clients.commands, scripts),
        activity=RedisActivity(clients.commands),
        cancel=cancellations.cancel,
        pacer=pacer,
        pending=RedisPendingStore(clients.commands, scripts, keys.derive("pending-send")),
        throttle_storage=throttle_storage,
        allowance=RedisAllowance(scripts, keys.derive("send-allowance")[0]),
        checks={"redis": store.ping},
        start=start,
        aclose=aclose,
    )
