"""Builds every Redis-backed part from one URL, and starts and stops them with the app."""

from __future__ import annotations

from typing import Any

from limits.aio.storage import RedisStorage

from gateway.keys import ServerKeys
from gateway.protocol.inflight import InFlightCalls
from gateway.redis.activity import RedisActivity
from gateway.redis.cancellation import CANCEL_CHANNEL, Cancellations
from gateway.redis.connection import connect
from gateway.redis.connections import RedisConnections
from gateway.redis.pacer import RedisPacer
from gateway.redis.pubsub import Channel, PubSubHub
from gateway.redis.revocations import RevocationMirror
from gateway.redis.scripts import REVOCATIONS_CHANNEL, Scripts
from gateway.redis.session_bus import RedisSessionBus
from gateway.redis.store import RedisStore
from gateway.settings import Settings
from gateway.shared_state import SharedState
from tools.rate_limit import KeyedRateLimiter

THROTTLE_KEY_PREFIX = "gw:lim"


def redis_state(url: str, settings: Settings, keys: ServerKeys, inflight: InFlightCalls) -> SharedState:
    """The shared state on the Redis at `url`; nothing connects before `start`."""
    clients = connect(url)
    scripts = Scripts(clients.commands)
    mirror = RevocationMirror(clients.commands)
    cancellations = Cancellations(inflight, clients.publisher)
    hub = PubSubHub(
        clients.commands,
        {
            REVOCATIONS_CHANNEL: Channel(mirror.on_message, mirror.on_subscribed),
            CANCEL_CHANNEL: Channel(cancellations.on_message),
        },
    )
    store = RedisStore(clients.commands, scripts, mirror, lambda: hub.connected)
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
        hub.start()

    async def aclose() -> None:
        await hub.aclose()
        await mirror.aclose()
        await clients.aclose()

    return SharedState(
        store=store,
        connections=RedisConnections(clients.commands, scripts),
        activity=RedisActivity(clients.commands),
        bus=RedisSessionBus(hub, clients.publisher),
        cancel=cancellations.cancel,
        pacer=pacer,
        throttle_storage=throttle_storage,
        checks={"redis": store.ping},
        start=start,
        aclose=aclose,
    )
