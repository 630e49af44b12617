"""Request ids and the access log (pure ASGI middleware): one line per HTTP request, at its end.

Every request gets an id: the caller's `x-request-id` when it is a plain token, else a fresh
`uuid4().hex`. The id is echoed in the response, kept in `scope["state"]["request_id"]`, and set in
`current_request_id` while the request runs, so `RequestIdFilter` stamps it on every record logged
on the way (tool calls, upstream calls). Only `send` is wrapped: streamed (SSE) responses pass
through chunk by chunk, and the line is written when the response ends, however it ends.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import MutableMapping
from contextvars import ContextVar
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER: Final = "x-request-id"
TRUSTED_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Under its own key, so an annotation never collides with what other code keeps in the state.
ANNOTATIONS_KEY: Final = "access_log"

access_logger = logging.getLogger("gateway.access")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
# The running request's `scope["state"]`, so code with no scope at hand (the protocol core, the
# OpenPhone client's observer) can annotate the access line; tasks started inside inherit it.
current_state: ContextVar[MutableMapping[str, Any] | None] = ContextVar("current_state", default=None)


def annotate(
    scope_state: MutableMapping[str, Any],
    *,
    principal: str | None = None,
    tool: str | None = None,
    upstream_status: int | None = None,
    outcome: str | None = None,
) -> None:
    """Add fields to this request's access line; `principal` is a fingerprint, never a credential.

    `scope_state` is `scope["state"]` (`request.scope["state"]`). Fields left `None` are not
    touched, and a later call overrides an earlier one.
    """
    given = {"principal": principal, "tool": tool, "upstream_status": upstream_status, "outcome": outcome}
    annotations = scope_state.setdefault(ANNOTATIONS_KEY, {})
    annotations.update({name: value for name, value in given.items() if value is not None})


def annotate_current(
    *,
    principal: str | None = None,
    tool: str | None = None,
    upstream_status: int | None = None,
    outcome: str | None = None,
) -> None:
    """`annotate` the request this code runs for, if any."""
    state = current_state.get()
    if state is not None:
        annotate(state, principal=principal, tool=tool, upstream_status=upstream_status, outcome=outcome)


class RequestIdFilter(logging.Filter):
    """Stamps `request_id` on records logged while a request is in flight (unless they carry one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and "request_id" not in record.__dict__:
            record.__dict__["request_id"] = request_id
        return True


class RequestLog:
    """Gives each HTTP request an id, echoes it in `x-request-id`, and logs one access line."""

    def __init__(self, app: ASGIApp, *, trusted_request_id: re.Pattern[str] = TRUSTED_REQUEST_ID) -> None:
        self.app = app
        self._trusted_request_id = trusted_request_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        echoed = (REQUEST_ID_HEADER.encode(), request_id.encode())
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (name, value) for name, value in message.get("headers", ()) if name.lower() != echoed[0]
                ]
                message = {**message, "headers": [*headers, echoed]}
            await send(message)

        started = time.perf_counter()
        context_token = current_request_id.set(request_id)
        state_token = current_state.set(state)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_state.reset(state_token)
            current_request_id.reset(context_token)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            _log_access(scope, state, request_id, status, duration_ms)

    def _request_id(self, inbound: str | None) -> str:
        # fullmatch: a `$` would let a trailing newline through.
        if inbound is not None and self._trusted_request_id.fullmatch(inbound):
            return inbound
        return uuid.uuid4().hex


def _log_access(
    scope: Scope, state: MutableMapping[str, Any], request_id: str, status: int, duration_ms: float
) -> None:
    client = scope.get("client")
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": scope["method"],
        # The path only: a query string can carry a session id or an OAuth code.
        "path": scope["path"],
        "status": status,
        "duration_ms": duration_ms,
        "client_ip": client[0] if client else None,
        **state.get(ANNOTATIONS_KEY, {}),
    }
    access_logger.info("%s %s %d", fields["method"], fields["path"], status, extra=fields)
