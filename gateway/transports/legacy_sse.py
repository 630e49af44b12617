"""The legacy HTTP+SSE transport (MCP 2024-11-05): `GET /sse` + `POST /messages?sessionId=…`.

The stream announces its POST endpoint in an `endpoint` event, then carries every response and
notification. A session id is signed, not stored: it is bound to the credential that opened the
stream (`Principal.credential`, not merely its key), so a POST with any other credential is refused
(404, like an unknown session), and it is delivered through the session bus to whichever process
holds the stream.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from itsdangerous import BadData, URLSafeSerializer
from prometheus_client import Gauge
from starlette.requests import Request as HTTPRequest
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Send

from gateway.errors import HTTPError, InvalidRequest, JSONRPCError, ParseError, SessionNotFound
from gateway.keys import ServerKeys
from gateway.operations.drain import Drain
from gateway.operations.request_log import annotate_current
from gateway.protocol import jsonrpc
from gateway.protocol.client_features import NO_FEATURES, ClientFeatures, read_features
from gateway.protocol.core import Exchange, ProtocolCore
from gateway.protocol.envelope import message_revision
from gateway.protocol.principal import Principal
from gateway.protocol.versions import HANDSHAKE_REVISIONS
from gateway.transports.gate import Gate
from gateway.transports.http import client_audience, client_ip, header_dict, read_body, require_json
from gateway.transports.legacy_stream import HANDLERS_PER_PROCESS, LegacyStream, StreamsByGrant
from gateway.transports.session_bus import BusUnavailable, Delivery, SessionBus
from gateway.transports.streaming import EventWriter
from tools.registry import Audience

logger = logging.getLogger(__name__)

SESSION_PURPOSE: Final = "legacy-sse-session"
SESSION_QUERY_PARAMS: Final = ("sessionId", "session_id")
# Session ids whose owner was checked, remembered per process (about 200 bytes each).
OWNERSHIPS_REMEMBERED: Final = 4096
_UNREACHABLE: Final = "Sessions cannot be reached right now; try again in a moment."
_BUSY: Final = "This session already has as many messages as it may hold; send again once some are answered."


@dataclass(slots=True)
class _Session:
    """What one open stream remembers: its id, and the revision and client features its `initialize`
    settled on (the features decide how a held send asks for confirmation)."""

    session_id: str
    principal: Principal
    audience: Audience
    revision: str = HANDSHAKE_REVISIONS[0]
    features: ClientFeatures = NO_FEATURES


class LegacySSE:
    """Opens legacy SSE streams and accepts the messages posted to them."""

    def __init__(
        self,
        core: ProtocolCore,
        authenticator: Gate,
        bus: SessionBus,
        keys: ServerKeys,
        public_path: str,
        keepalive_seconds: float,
        drain: Drain,
        streams: Gauge,
    ) -> None:
        self._core = core
        self._drain = drain
        self._streams = streams
        self._auth = authenticator
        self._bus = bus
        # itsdangerous signs with the last key and verifies with all of them.
        self._signer = URLSafeSerializer(list(reversed(keys.derive(SESSION_PURPOSE))))
        # Every POST of a session asks again; the answer cannot change while this process's keys do
        # not (the ids carry no expiry), so pairs found genuine are remembered, boundedly.
        self._owns = functools.lru_cache(maxsize=OWNERSHIPS_REMEMBERED)(self._verify_owner)
        self._public_path = public_path
        self._keepalive_seconds = keepalive_seconds
        self._process_handlers = asyncio.Semaphore(HANDLERS_PER_PROCESS)
        self._revocable = StreamsByGrant()

    @property
    def revocable(self) -> StreamsByGrant:
        """The open streams by the grant that opened them: `end` closes those of a revoked one."""
        return self._revocable

    async def open_stream(
        self, request: HTTPRequest, send: Send, resource_path: str, messages_path: str
    ) -> None:
        """Serve one SSE stream until the client goes away, its grant is revoked or the process drains."""
        session = await self._new_session(request, resource_path)
        endpoint = f"{self._public_path}{messages_path}?sessionId={session.session_id}"
        self._streams.inc()
        try:
            async with self._bus.subscribe(session.session_id) as inbox:
                stream = LegacyStream(inbox, send, request.scope, self._process_handlers)
                with self._revocable.watch(session.principal.revocation_ids, stream.revoke):
                    await stream.writer.event(endpoint.encode(), event="endpoint")
                    await self._serve(stream, session, request.receive)
            if stream.writer.stalled:
                # The aborted connection's loss is reported on the loop's next turn; the server must
                # see it before this returns, or it reports an unfinished response as an error.
                await asyncio.sleep(0)
            elif self._drain.draining or stream.revoked:
                # End the response properly, so the client sees a finished stream and reconnects.
                await stream.writer.close()
        except BusUnavailable:
            # Raised only on subscribing, before the stream has started: answer it as an HTTP error.
            raise HTTPError(503, _UNREACHABLE, {"retry-after": "1"}) from None
        finally:
            self._streams.dec()

    async def _serve(self, stream: LegacyStream, session: _Session, receive: Receive) -> None:
        """Answer the stream's messages until it ends: by the client going away, by the drain, by its
        grant's revocation, by its client not reading, or by a handler failing. Bare asyncio tasks,
        not a task group: an idle stream holds them."""
        # Every way a stream ends goes through `stream.end`: the loop may be waiting for a free
        # handler with a message in hand, and only cancelling the handlers frees one.
        watcher = asyncio.get_running_loop().create_task(
            stream.writer.keep_alive(receive, stream.end, self._keepalive_seconds)
        )
        try:
            with self._drain.calls(stream.end):
                async for payload in stream.inbox:
                    if not await stream.handlers.reserve():
                        break
                    stream.handlers.start(self._answer_message(payload, session, stream))
        finally:
            watcher.cancel()
            await stream.handlers.cancel()

    async def _new_session(self, request: HTTPRequest, resource_path: str) -> _Session:
        """Authenticate the stream's request and name its session (the headers are not kept)."""
        headers = header_dict(request)
        principal = await self._auth.authenticate(headers, resource_path)
        annotate_current(principal=principal.fingerprint)
        await self._auth.admit(principal, client_ip(request))
        if self._drain.draining:
            raise HTTPError(503, "This server is shutting down; connect again.", {"retry-after": "1"})
        nonce = secrets.token_urlsafe(16)
        session_id = self._signer.dumps([nonce, _binding(nonce, principal.credential)])
        return _Session(session_id, principal, client_audience(headers))

    async def post_message(self, request: HTTPRequest, resource_path: str) -> Response:
        """Accept one POSTed message (or batch) for a live session: 202, with the answer on the stream."""
        headers = header_dict(request)
        principal = await self._auth.authenticate(headers, resource_path)
        annotate_current(principal=principal.fingerprint)
        await self._auth.admit(principal, client_ip(request))
        require_json(headers)
        session_id = _session_id(request.scope["query_string"])
        if not session_id:
            raise HTTPError(400, "Add the sessionId query parameter given in the stream's endpoint event.")
        body = await read_body(request.receive, headers)
        try:
            payload = jsonrpc.decode_json(body)
        except ParseError as exc:
            return JSONResponse(jsonrpc.failure(None, exc), status_code=400)
        if not self._owns(session_id, principal.credential):
            raise SessionNotFound()
        delivery = await self._bus.deliver(session_id, payload)
        del body, payload
        if delivery is Delivery.BUSY:
            raise HTTPError(429, _BUSY, {"retry-after": "1"})
        if delivery is Delivery.UNAVAILABLE:
            raise HTTPError(503, _UNREACHABLE, {"retry-after": "1"})
        if delivery is not Delivery.DELIVERED:
            raise SessionNotFound()
        return _ACCEPTED

    def _verify_owner(self, session_id: str, credential: str) -> bool:
        """Whether `session_id` is genuine and was opened with this credential."""
        try:
            claims = self._signer.loads(session_id)
        except BadData:
            return False
        if not (isinstance(claims, list) and len(claims) == 2 and all(isinstance(c, str) for c in claims)):
            return False
        return hmac.compare_digest(claims[1], _binding(claims[0], credential))

    async def _answer_message(self, payload: Any, session: _Session, stream: LegacyStream) -> None:
        await self._handle(payload, session, stream.writer)
        await stream.inbox.done()

    async def _handle(self, payload: Any, session: _Session, writer: EventWriter) -> None:
        if isinstance(payload, list):
            exchange = Exchange(
                session.principal,
                session.revision,
                session.session_id,
                writer.message,
                session.audience,
                session.features,
            )
            try:
                answers = await self._core.handle_batch(payload, exchange)
            except InvalidRequest as exc:
                await writer.message(jsonrpc.failure(None, exc))
                return
            if answers:
                await writer.message(answers)
            return
        answer = await self._answer(payload, session, writer)
        if answer is not None:
            await writer.message(answer)

    async def _answer(self, item: Any, session: _Session, writer: EventWriter) -> dict[str, Any] | None:
        message: jsonrpc.Message | None = None
        try:
            message = jsonrpc.parse_message(item)
            revision = message_revision(message, None, session.revision)
        except JSONRPCError as exc:
            request_id = message.id if isinstance(message, jsonrpc.Request) else jsonrpc.recover_id(item)
            return jsonrpc.failure(request_id, exc)
        exchange = Exchange(
            session.principal,
            revision,
            session.session_id,
            writer.message,
            session.audience,
            session.features,
        )
        if isinstance(message, jsonrpc.Notification):
            await self._core.handle_notification(message, exchange)
        if not isinstance(message, jsonrpc.Request):
            return None
        response = await self._core.handle_request(message, exchange)
        if message.method == "initialize" and response is not None and "result" in response:
            session.revision = response["result"]["protocolVersion"]
            session.features = read_features((message.params or {}).get("capabilities"))
        return response


# Every accepted message gets the same answer; the response object only sends it (its headers are copied
# by the edge before anything is added), so one serves them all.
_ACCEPTED: Final = PlainTextResponse("Accepted", status_code=202)


def _session_id(query_string: bytes) -> str:
    """The session id from the POST's query (the first of `SESSION_QUERY_PARAMS` present), or "".

    Read as Starlette's `QueryParams` reads it: a name given twice keeps its last value.
    """
    values = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return next((values[name] for name in SESSION_QUERY_PARAMS if name in values), "")


def _binding(nonce: str, credential: str) -> str:
    """The credential as a session id carries it: salted per session, so ids do not link a caller."""
    return hashlib.sha256(f"{nonce}\n{credential}".encode()).hexdigest()
