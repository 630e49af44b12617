"""The Streamable HTTP transport at `/mcp` (MCP 2025-03-26 and later; stateless 2026-07-28).

Sessionless by design: any instance answers any request and DELETE has nothing to end (405, as the
spec allows). The only `Mcp-Session-Id` handed out is a signed memo of what a client declared at
`initialize`, held by the client, not the server (`features_memo.py`). A request is answered with
JSON unless the call sends a notification first (progress), in which case the response upgrades to an event
stream. GET opens the legacy HTTP+SSE stream for clients configured that way (no protocol version
header), else 405.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from starlette.requests import Request as HTTPRequest
from starlette.types import Receive, Scope, Send

from gateway.errors import HTTPError, InvalidRequest, JSONRPCError
from gateway.operations.request_log import annotate_current
from gateway.protocol import jsonrpc
from gateway.protocol.cancel_scope import CallScope
from gateway.protocol.client_features import read_features
from gateway.protocol.core import Exchange, ProtocolCore
from gateway.protocol.envelope import field_value, message_revision, unsupported_revision
from gateway.protocol.versions import HANDSHAKE_REVISIONS, UNHEADERED_REVISION, is_modern
from gateway.transports.features_memo import SESSION_HEADER, FeaturesMemo
from gateway.transports.gate import Gate
from gateway.transports.http import (
    Accepts,
    client_audience,
    client_ip,
    header_dict,
    negotiate,
    read_body,
    require_json,
)
from gateway.transports.legacy_sse import LegacySSE
from gateway.transports.streaming import DisconnectWatches, EventWriter

RESOURCE_PATH: Final = "/mcp"
MESSAGES_PATH: Final = "/mcp/messages"

# 2026-07-28 streamable HTTP: "unknown method -> 404"; every other envelope failure is 400.
_MODERN_ERROR_STATUS: Final[Mapping[int, int]] = {-32601: 404, -32603: 200}


class StreamableHTTP:
    """The ASGI endpoint behind `/mcp`."""

    def __init__(
        self, core: ProtocolCore, authenticator: Gate, legacy: LegacySSE, memo: FeaturesMemo
    ) -> None:
        self._core = core
        self._memo = memo
        self._auth = authenticator
        self._legacy = legacy
        self._watches = DisconnectWatches()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = HTTPRequest(scope, receive)
        if request.method == "POST":
            await self._post(request, send)
        elif request.method == "GET" and _wants_legacy_stream(header_dict(request)):
            await self._legacy.open_stream(request, send, RESOURCE_PATH, MESSAGES_PATH)
        else:
            raise HTTPError(
                405,
                "This endpoint is stateless: POST JSON-RPC messages to it. A GET opens a legacy SSE "
                "stream only with Accept: text/event-stream and neither Mcp-Session-Id nor "
                "MCP-Protocol-Version.",
                {"allow": "GET, POST"},
            )

    async def _post(self, request: HTTPRequest, send: Send) -> None:
        headers = header_dict(request)
        principal = await self._auth.authenticate(headers, RESOURCE_PATH)
        annotate_current(principal=principal.fingerprint)
        await self._auth.admit(principal, client_ip(request))
        require_json(headers)
        accepts = negotiate(headers.get("accept"))
        body = await read_body(request.receive, headers)
        audience = client_audience(headers)
        payload: Any = None
        message: jsonrpc.Message | None = None
        try:
            payload = jsonrpc.decode_json(body)
            del body  # the call may run for seconds; its raw bytes are not needed again
            fallback = _handshake_revision(field_value(headers, "mcp-protocol-version"))
            if isinstance(payload, list):
                exchange = Exchange(principal, fallback, principal.credential, audience=audience)
                await self._batch(payload, exchange, send)
                return
            message = jsonrpc.parse_message(payload)
            revision = message_revision(message, headers, fallback)
        except JSONRPCError as exc:
            request_id = message.id if isinstance(message, jsonrpc.Request) else jsonrpc.recover_id(payload)
            await send_json(send, 400, jsonrpc.failure(request_id, exc))
            return
        if isinstance(message, jsonrpc.Request):
            writer = EventWriter(send) if accepts.event_stream else None
            exchange = Exchange(
                principal,
                revision,
                principal.credential,
                writer.message if writer is not None else None,
                audience,
                self._memo.read(headers.get(SESSION_HEADER), principal.credential),
            )
            scope = self._core.missing_scope(message, exchange)
            if scope is not None:
                raise self._auth.insufficient_scope(RESOURCE_PATH, scope)
            await self._answer(message, exchange, accepts, writer, request.receive, send)
            return
        exchange = Exchange(principal, revision, principal.credential, audience=audience)
        if isinstance(message, jsonrpc.Notification):
            await self._core.handle_notification(message, exchange)
        await send_empty(send, 202)

    async def _batch(self, payload: list[Any], exchange: Exchange, send: Send) -> None:
        """2025-03-26 batches: 200 with the answers, 202 when there are none, 400 when refused."""
        try:
            answers = await self._core.handle_batch(payload, exchange)
        except InvalidRequest as exc:
            await send_json(send, 400, jsonrpc.failure(None, exc))
            return
        if answers:
            await send_json(send, 200, answers)
        else:
            await send_empty(send, 202)

    async def _answer(
        self,
        message: jsonrpc.Request,
        exchange: Exchange,
        accepts: Accepts,
        writer: EventWriter | None,
        receive: Receive,
        send: Send,
    ) -> None:
        """Run the request; reply with JSON, or with `writer`'s event stream once a notification was sent
        (`writer` is None when the client accepts only JSON).

        The call runs in this task, inside a cancel scope that a client disconnect cancels
        (2026-07-28: closing the connection cancels the request), watched from a short delay on
        (`DisconnectWatches`): this is the hot path, and most calls end before a watcher is needed.
        """
        response: dict[str, Any] | None = None
        with CallScope() as scope:
            self._watches.start(receive, scope)
            try:
                response = await self._core.handle_request(message, exchange)
            finally:
                self._watches.stop(scope)
        session = self._session_of(message, response, exchange)
        await _reply(response, writer, accepts, is_modern(exchange.revision), send, session)

    def _session_of(
        self, message: jsonrpc.Request, response: dict[str, Any] | None, exchange: Exchange
    ) -> dict[str, str]:
        """The `Mcp-Session-Id` header an `initialize` answer carries (`FeaturesMemo`), if any."""
        if message.method != "initialize" or response is None or "result" not in response:
            return {}
        declared = read_features((message.params or {}).get("capabilities"))
        session_id = self._memo.issue(declared, exchange.principal.credential)
        return {SESSION_HEADER: session_id} if session_id is not None else {}


async def _reply(
    response: dict[str, Any] | None,
    writer: EventWriter | None,
    accepts: Accepts,
    modern: bool,
    send: Send,
    session: dict[str, str],
) -> None:
    streaming = writer is not None and writer.started
    if not streaming and (response is not None and (accepts.json or session)):
        # An answer naming a session is sent as JSON even to an event-stream-only client: the
        # header must go out with the response's start (2025-03-26 transports: JSON is allowed).
        failed = modern and "error" in response
        status = _MODERN_ERROR_STATUS.get(response["error"]["code"], 400) if failed else 200
        await send_json(send, status, response, session)
        return
    if writer is None:
        # Only JSON is accepted and there is no answer: the call was cancelled.
        await send_empty(send, 204)
        return
    if response is not None:
        await writer.message(response)
    await writer.close()


def _wants_legacy_stream(headers: Mapping[str, str]) -> bool:
    """A GET from a legacy HTTP+SSE client: it asks for an event stream, with no session and no version.

    Streamable HTTP clients send MCP-Protocol-Version (2025-06-18 and later) and may GET for a
    standalone stream, which this sessionless server does not offer: they get 405 (2025-06-18 transports:
    "or else return HTTP 405 Method Not Allowed") rather than a legacy stream held open for nothing.
    """
    return (
        "mcp-session-id" not in headers
        and "mcp-protocol-version" not in headers
        and "text/event-stream" in headers.get("accept", "").lower()
    )


def _handshake_revision(value: str | None) -> str:
    """The revision named by MCP-Protocol-Version; absent means 2025-03-26.

    2025-06-18 transports: an invalid or unsupported value MUST get 400 Bad Request.
    """
    if value is None:
        return UNHEADERED_REVISION
    if value in HANDSHAKE_REVISIONS or is_modern(value):
        return value
    raise unsupported_revision(value)


async def send_json(send: Send, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
    """A complete JSON response (with `extra` headers)."""
    data = jsonrpc.encode(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    headers += [(name.encode(), value.encode("latin-1")) for name, value in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def send_empty(send: Send, status: int) -> None:
    """A response with no body (202 for notifications, 204 for a cancelled request)."""
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
