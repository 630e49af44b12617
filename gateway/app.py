"""The app factory: one route table, one middleware stack, built from one `Settings`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import __version__
from gateway.edge.auth import Authenticator
from gateway.edge.entry import Edge
from gateway.edge.key_checks import KeyChecks
from gateway.edge.origin_guard import OriginGuard
from gateway.edge.security_headers import SecurityHeaders
from gateway.errors import HTTPError
from gateway.keys import ServerKeys
from gateway.operations.drain import Drain
from gateway.operations.health import Readiness, healthz
from gateway.operations.metrics import Metrics, MetricsEndpoint
from gateway.operations.request_log import annotate_current
from gateway.protocol.confirmation import Confirmations
from gateway.protocol.core import ProtocolCore, ServerInfo
from gateway.protocol.inflight import InFlightCalls
from gateway.settings import Settings
from gateway.shared_state import SharedState, build_shared_state
from gateway.transports.features_memo import FeaturesMemo
from gateway.transports.http import render_http_error
from gateway.transports.legacy_sse import LegacySSE
from gateway.transports.session_bus import SessionBus
from gateway.transports.streamable_http import MESSAGES_PATH, RESOURCE_PATH, StreamableHTTP
from gateway.transports.streaming import KEEPALIVE_SECONDS
from landing.page import landing_routes
from oauth.activity import ActivityRecorder
from oauth.bearer import BearerVerifier
from oauth.client_metadata import ClientMetadataFetcher
from oauth.clients import ClientDirectory
from oauth.confirm_page import ConfirmPage, HolderCookie
from oauth.endpoints import Endpoints
from oauth.last_used import LastUsed
from oauth.registration import Registrar
from oauth.server import AuthorizationServer
from oauth.store import Store, StoreUnavailable
from oauth.throttle import Throttle
from oauth.tokens import Lifetimes
from tools.api import OpenPhone
from tools.catalog import build_registry
from tools.client import KeyVerdicts, Observer, OpenPhoneClient
from tools.errors import UndoRefused
from tools.rate_limit import Pacer
from tools.registry import ToolRegistry
from tools.undo import SpendOnce, UndoBook, UndoCode

SSE_PATH: Final = "/sse"
HEALTH_PATH: Final = "/healthz"
READY_PATH: Final = "/readyz"
METRICS_PATH: Final = "/metrics"
SSE_MESSAGES_PATHS: Final = ("/messages", "/messages/")
UNDO_KEY_PURPOSE: Final = "contact-undo"
INSTRUCTIONS: Final = (
    "Tools for one OpenPhone (Quo) workspace: send and read text messages, manage contacts, and read "
    "calls with their transcripts and summaries. Phone numbers are E.164 (+15551234567)."
)


def server_info() -> ServerInfo:
    """How this gateway names itself to MCP clients."""
    return ServerInfo(
        name="openphone-mcp-gateway",
        version=__version__,
        title="OpenPhone MCP Gateway",
        instructions=INSTRUCTIONS,
    )


class _LegacyStream:
    """`GET /sse`: opens a legacy SSE stream whose POST endpoint is `/messages`."""

    def __init__(self, legacy: LegacySSE) -> None:
        self._legacy = legacy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._legacy.open_stream(Request(scope, receive), send, SSE_PATH, SSE_MESSAGES_PATHS[0])


class _LegacyPost:
    """`POST /messages` (or `/mcp/messages`): one message for the legacy stream opened at `resource_path`.

    A plain ASGI endpoint, so the edge can serve it without the router, as it does `POST /mcp`.
    """

    def __init__(self, legacy: LegacySSE, resource_path: str) -> None:
        self._legacy = legacy
        self._resource_path = resource_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._legacy.post_message(Request(scope, receive), self._resource_path)
        await response(scope, receive, send)


def build_openphone(
    settings: Settings,
    metrics: Metrics,
    pacer: Pacer,
    upstream: ASGIApp | None = None,
    verdicts: KeyVerdicts | None = None,
) -> OpenPhone:
    """The OpenPhone client: the real API, or an in-process ASGI stand-in (the sandbox, or a test's)."""
    if upstream is None and settings.sandbox:
        from tools.sandbox import create_sandbox_app  # only with --sandbox: a production start never loads it

        upstream = create_sandbox_app()
    client = OpenPhoneClient(
        base_url=settings.openphone_api_base,
        timeout=settings.openphone_timeout,
        pacer=pacer,
        app=upstream,
        observe=_upstream_observer(metrics),
        verdicts=verdicts,
    )
    return OpenPhone(client)


def _upstream_observer(metrics: Metrics) -> Observer:
    """Each upstream exchange goes to the latency histogram and onto the request's access line."""

    def observe(method: str, status: int | None, seconds: float) -> None:
        metrics.observe_upstream(method, status, seconds)
        annotate_current(upstream_status=status)

    return observe


def _undo_spender(store: Store) -> SpendOnce:
    """The store's spend-once, with an unreachable store told to the model as a retryable refusal."""

    async def spend_once(name: str, ttl: float) -> bool:
        try:
            return await store.spend_once(name, ttl)
        except StoreUnavailable:
            raise UndoRefused(
                UndoCode.UNAVAILABLE, "Undo is briefly unavailable; try again in a moment."
            ) from None

    return spend_once


def create_app(
    settings: Settings,
    *,
    registry: ToolRegistry | None = None,
    bus: SessionBus | None = None,
    keepalive_seconds: float = KEEPALIVE_SECONDS,
    upstream: ASGIApp | None = None,
    drain: Drain | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the gateway. Tests pass their own registry or upstream; the rest comes from `settings`.

    `drain` is flipped by the server on SIGTERM (see `gateway.cli`); streams end when it is.
    `clock` tells undo tokens the time (a test moves it past their 5 minutes).
    """
    keys = ServerKeys.from_settings(settings)
    metrics = Metrics()
    drain = drain or Drain()
    inflight = InFlightCalls(keys.derive("cancel-namespace")[0])
    shared: SharedState = build_shared_state(settings, keys, inflight, bus)
    store = shared.store
    # Failed key checks per address: as many a minute as consent allows tries, each one a key check.
    key_checks = KeyChecks(keys, settings.oauth_rate_limit, shared.throttle_storage)
    openphone = build_openphone(settings, metrics, shared.pacer, upstream, key_checks)
    endpoints = Endpoints.from_settings(settings)
    clients = ClientDirectory(Registrar(keys), ClientMetadataFetcher())
    secure_cookies = settings.public_url.startswith("https://")
    holder = HolderCookie(keys, settings.public_path, int(settings.refresh_token_seconds), secure_cookies)
    throttle = Throttle(settings.oauth_rate_limit, shared.throttle_storage)
    activity = ActivityRecorder(shared.activity, keys)
    oauth = AuthorizationServer(
        endpoints=endpoints,
        keys=keys,
        store=store,
        clients=clients,
        openphone=openphone,
        lifetimes=Lifetimes(
            code=settings.auth_code_seconds,
            access=settings.access_token_seconds,
            refresh=settings.refresh_token_seconds,
            refresh_grace=settings.refresh_grace_seconds,
        ),
        public_path=settings.public_path,
        secure_cookies=secure_cookies,
        throttle=throttle,
        holder=holder,
        connections=shared.connections,
        activity=shared.activity,
        allowance=shared.allowance,
    )
    registry = registry or build_registry(settings.chatgpt_tools)
    confirmations = Confirmations(shared.pending, keys, settings.public_url)
    core = ProtocolCore(
        registry,
        server_info(),
        inflight,
        shared.cancel,
        openphone,
        settings.default_phone_region,
        confirmations,
        metrics.count_tool_call,
        shared.allowance,
        UndoBook(keys.derive(UNDO_KEY_PURPOSE), _undo_spender(store), clock),
        activity.note,
    )
    confirm_page = ConfirmPage(
        confirmations, core.deliver, keys, holder, throttle, settings.public_path, secure_cookies
    )
    last_used = LastUsed(shared.connections, keys)
    verifier = BearerVerifier(oauth.sealer, store, endpoints, metrics.count_verification, last_used)
    authenticator = Authenticator(settings, keys, verifier, key_checks)
    legacy = LegacySSE(
        core,
        authenticator,
        shared.bus,
        keys,
        settings.public_path,
        keepalive_seconds,
        drain,
        metrics.sse_streams,
    )
    # Revoking a token or sign-in, here or on any machine, closes the legacy streams it opened.
    store.on_revoked(legacy.revocable.end)

    posts: dict[str, ASGIApp] = {
        MESSAGES_PATH: _LegacyPost(legacy, RESOURCE_PATH),
        **{path: _LegacyPost(legacy, SSE_PATH) for path in SSE_MESSAGES_PATHS},
    }
    streamable = StreamableHTTP(core, authenticator, legacy, FeaturesMemo(keys))
    mcp_routes: list[BaseRoute] = [
        Route(RESOURCE_PATH, streamable),
        Route(SSE_PATH, _LegacyStream(legacy), methods=["GET"]),
        *(Route(path, post, methods=["POST"]) for path, post in posts.items()),
    ]
    prefix = settings.public_path
    guarded_paths = [prefix + path for path in (RESOURCE_PATH, MESSAGES_PATH, SSE_PATH, *SSE_MESSAGES_PATHS)]
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    # The MCP endpoints first: Starlette tries routes in order, and they take nearly all the traffic.
    routes: list[BaseRoute] = (
        [Mount(prefix, app=Router(mcp_routes, redirect_slashes=False))] if prefix else list(mcp_routes)
    )
    routes += [
        Route(HEALTH_PATH, healthz, methods=["GET"]),
        Route(READY_PATH, Readiness(shared.checks, openphone.client, drain).respond, methods=["GET"]),
        Route(METRICS_PATH, MetricsEndpoint(metrics, metrics_token).respond, methods=["GET"]),
        *oauth.routes(),
        *confirm_page.routes(),
        *landing_routes(settings, registry),
    ]
    known_paths = {route.path for route in routes if isinstance(route, Route)} | set(guarded_paths)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await shared.start()
        try:
            async with anyio.create_task_group() as background:
                background.start_soon(last_used.run)
                background.start_soon(activity.run)
                yield
                background.cancel_scope.cancel()
        finally:
            await last_used.flush()
            await activity.flush()
            await openphone.aclose()
            await clients.aclose()
            await shared.aclose()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(
                Edge,
                guard=OriginGuard(
                    public_url=settings.public_url,
                    allowed_origins=settings.allowed_origins,
                    paths=guarded_paths,
                ),
                security=SecurityHeaders(https=settings.public_url.startswith("https://")),
                metrics=metrics,
                routes=known_paths,
                # The hot paths: the POSTs of both transports skip the router and exception middleware.
                direct={
                    ("POST", prefix + RESOURCE_PATH): streamable,
                    **{("POST", prefix + path): post for path, post in posts.items()},
                },
            ),
        ],
        exception_handlers={HTTPError: render_http_error},
    )
    # Every endpoint has one exact URL; Starlette's slash redirect would build its Location from the
    # request's Host, which only the MCP paths check (review #12).
    app.router.redirect_slashes = False
    return app
