"""HTTP plumbing shared by the MCP endpoints: body limits, content negotiation and error bodies.

Pure helpers that raise `HTTPError`; the app renders every `HTTPError` in one place.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from gateway.errors import HTTPError
from tools.registry import Audience

MAX_BODY_BYTES: Final = 1024 * 1024
# A body must have arrived whole this long after the app starts reading it (review 2026-12-07 #5: a
# slow upload was held for as long as its client kept the connection open). 100 KiB/s at the largest
# body; the largest legitimate message (a 100-recipient bulk-messages) is far smaller.
BODY_DEADLINE_SECONDS: Final = 10.0
JSON_MEDIA_TYPE: Final = "application/json"
SSE_MEDIA_TYPE: Final = "text/event-stream"
_JSON_BODY_TYPES: Final = frozenset({JSON_MEDIA_TYPE, "application/octet-stream"})
# Accept headers up to this long have their reading remembered, this many of them (`negotiate`).
_ACCEPT_CHARS_REMEMBERED: Final = 256
_ACCEPTS_REMEMBERED: Final = 256


async def read_body(
    receive: Receive,
    headers: Mapping[str, str],
    limit: int = MAX_BODY_BYTES,
    deadline: float = BODY_DEADLINE_SECONDS,
) -> bytes:
    """The whole request body, refusing with 413 as soon as it exceeds `limit` bytes, and with 408
    (closing the connection) when it has not all arrived within `deadline` seconds.

    `headers` is the request's `header_dict`, which the transports have already built.
    """
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    try:
        async with asyncio.timeout(deadline):
            return await _read(receive, limit)
    except TimeoutError:
        raise HTTPError(
            408, f"The request body did not arrive within {deadline:g} s.", {"connection": "close"}
        ) from None


async def _read(receive: Receive, limit: int) -> bytes:
    # ASGI messages read directly: `Request.stream()` is an async generator per request, and a
    # JSON-RPC body nearly always arrives in one message.
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(limit: int) -> HTTPError:
    return HTTPError(413, f"The request body is larger than {limit // 1024} KiB.")


def header_dict(request: Request) -> dict[str, str]:
    """The request's headers as a plain dict, for the dozen lookups an MCP request makes.

    Starlette's `Headers` scans and decodes the whole list on every lookup. A repeated header keeps
    its first value, as `Headers.get` gives it; ASGI servers send the names lowercased.
    """
    headers: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def client_ip(request: Request) -> str:
    """The client's address as uvicorn (or `ClientAddress`) set it, "unknown" when there is none."""
    return request.client.host if request.client is not None else "unknown"


def require_json(headers: Mapping[str, str]) -> None:
    """Refuse with 415 unless the body is declared as application/json, or as application/octet-stream.

    ChatGPT's tool scanner labels its JSON `application/octet-stream` (openai-apps-sdk-examples#183),
    so that label is read as JSON too; the body still has to parse. No other type is: the
    CORS-safelisted ones (Fetch §2.2.2: text/plain, forms) and a missing type need no preflight, and
    accepting them would let any web page POST to this endpoint cross-site.
    """
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in _JSON_BODY_TYPES:
        raise HTTPError(415, "Send the JSON-RPC message with Content-Type: application/json.")


@dataclass(frozen=True, slots=True)
class Accepts:
    """Which response media types a client said it can read."""

    json: bool
    event_stream: bool


def negotiate(accept: str | None) -> Accepts:
    """Read an Accept header leniently: either type, `*/*` or no header at all will do.

    RFC 9110 §12.5.1: the most specific matching range decides each type's quality, so
    `text/event-stream;q=0, */*` excludes event streams. Raises 406 only when the client lists
    media types and neither of ours is acceptable.

    A client sends the same header on every request, so short ones are read once and remembered
    (at most `_ACCEPTS_REMEMBERED`; a refusal is not remembered, it raises).
    """
    if accept is not None and len(accept) <= _ACCEPT_CHARS_REMEMBERED:
        return _remembered_negotiation(accept)
    return _negotiate(accept)


def _negotiate(accept: str | None) -> Accepts:
    if not accept or not accept.strip():
        return Accepts(json=True, event_stream=True)
    qualities: dict[str, float] = {}
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        qualities[media_range.lower()] = _quality(params)
    accepts = Accepts(
        json=_accepts(qualities, JSON_MEDIA_TYPE), event_stream=_accepts(qualities, SSE_MEDIA_TYPE)
    )
    if not (accepts.json or accepts.event_stream):
        raise HTTPError(406, "Accept application/json or text/event-stream.")
    return accepts


_remembered_negotiation = functools.lru_cache(maxsize=_ACCEPTS_REMEMBERED)(_negotiate)


def _accepts(qualities: dict[str, float], media_type: str) -> bool:
    """Whether the most specific range matching `media_type` has a quality above zero."""
    for candidate in (media_type, media_type.split("/")[0] + "/*", "*/*"):
        if candidate in qualities:
            return qualities[candidate] > 0
    return False


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 1.0
    return 1.0


def render_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's handler for `HTTPError`: `error_response`."""
    if not isinstance(exc, HTTPError):
        raise exc
    return error_response(exc)


def error_response(exc: HTTPError) -> Response:
    """The JSON body of every refusal made before the protocol core: one sentence, nothing echoed."""
    slug = exc.error or _SLUGS.get(exc.status_code, "bad_request")
    return JSONResponse(
        {"error": slug, "error_description": exc.message}, status_code=exc.status_code, headers=exc.headers
    )


_SLUGS: Final[Mapping[int, str]] = {
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    421: "misdirected_request",
    429: "too_many_requests",
}


def client_audience(headers: Mapping[str, str]) -> Audience:
    """Who is asking: "chatgpt" when the User-Agent is ChatGPT's `openai-mcp/…` (mcp-spec-notes.md)."""
    user_agent = headers.get("user-agent", "")
    return "chatgpt" if user_agent.lower().startswith("openai-mcp/") else "default"
