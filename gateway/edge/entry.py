"""Where every HTTP request enters: one pure-ASGI wrapper with one `send` wrapper (issue 16).

In one pass over the request headers it gives the request its id and its access line
(`gateway.operations.request_log`), refuses foreign Hosts and browser Origins on the MCP paths and
answers their CORS (`origin_guard`); on the way out it adds the security headers
(`security_headers`), the request id and CORS to the response's headers in one copy, counts the
response (`gateway.operations.metrics`) and writes the access line. Four middleware layers did this
before, each wrapping `send` and copying the headers again.

`direct` routes (`POST /mcp`: nearly all the traffic) go straight to their endpoint instead of
through Starlette's router and exception middleware; an `HTTPError` raised before the response
starts is rendered here exactly as the app's handler renders it. Streamed (SSE) responses pass
through chunk by chunk, and the access line is written when the response ends, however it ends.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Mapping

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge.origin_guard import OriginGuard
from gateway.edge.security_headers import SecurityHeaders
from gateway.errors import HTTPError
from gateway.operations.logs import current_request_id
from gateway.operations.metrics import Metrics
from gateway.operations.request_log import (
    REQUEST_ID_HEADER,
    TRUSTED_REQUEST_ID,
    AccessRecord,
    current_access,
    log_access,
    request_id_for,
)
from gateway.transports.http import error_response

logger = logging.getLogger(__name__)


class Edge:
    """Request id, origin check, security headers, metrics and access line around `app`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        guard: OriginGuard,
        security: SecurityHeaders,
        metrics: Metrics,
        routes: Collection[str],
        direct: Mapping[tuple[str, str], ASGIApp] | None = None,
        trusted_request_id: re.Pattern[str] = TRUSTED_REQUEST_ID,
    ) -> None:
        """`routes` are the paths counted under their own name (any other is "other"); `direct` maps
        (method, path) to the endpoint that serves it without the router."""
        self._app = app
        self._guard = guard
        self._security = security
        self._metrics = metrics
        self._routes = frozenset(routes)
        self._direct = dict(direct or {})
        self._trusted_request_id = trusted_request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        inbound_id = host = origin = None
        preflight = False
        # A repeated header counts once, with its first value; ASGI servers send names lowercased.
        # `serve` refuses a second Host before this (`http_limits.settle_host`).
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                inbound_id = value if inbound_id is None else inbound_id
            elif name == b"host":
                host = value if host is None else host
            elif name == b"origin":
                origin = value if origin is None else origin
            elif name == b"access-control-request-method":
                preflight = True
        request_id = request_id_for(inbound_id, self._trusted_request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        path, method = scope["path"], scope["method"]
        app = self._direct.get((method, path), self._app)
        cors_origin: str | None = None
        if path in self._guard.paths:
            browser_origin = origin.decode("latin-1") if origin is not None else None
            refusal = self._guard.refusal(host.decode("latin-1") if host is not None else "", browser_origin)
            if refusal is not None:
                app = refusal
            elif browser_origin is not None and method == "OPTIONS" and preflight:
                app = self._guard.preflight(browser_origin)
            else:
                cors_origin = browser_origin
        echoed = (REQUEST_ID_HEADER, request_id.encode())
        status = 0

        async def send_at_edge(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (name, value) for name, value in message.get("headers", ()) if name.lower() != echoed[0]
                ]
                if cors_origin is not None:
                    OriginGuard.add_cors(headers, cors_origin)
                message = {**message, "headers": [*self._security.complete(headers), echoed]}
            await send(message)

        record = AccessRecord(request_id)
        started = time.perf_counter()
        id_token = current_request_id.set(request_id)
        record_token = current_access.set(record)
        try:
            try:
                await app(scope, receive, send_at_edge)
            except HTTPError as exc:
                # Raised by a direct route (the router's own are rendered by the app's handler).
                if status:
                    raise
                await error_response(exc)(scope, receive, send_at_edge)
        except ClientDisconnect:
            # A client that leaves mid-body is not a server error: uvicorn logged it at ERROR with a
            # traceback, so anyone could fill the error log at will (second review #6).
            logger.info("%s %s: the client disconnected before the request body arrived", method, path)
        finally:
            current_access.reset(record_token)
            current_request_id.reset(id_token)
            self._metrics.count_request(path if path in self._routes else "other", status)
            log_access(scope, record, status, round((time.perf_counter() - started) * 1000, 1))
