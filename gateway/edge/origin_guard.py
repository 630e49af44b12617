"""DNS-rebinding defence and CORS for the MCP endpoints (pure ASGI middleware).

MCP 2025-11-25 transports: servers MUST validate `Origin`, and a present, invalid Origin MUST get
403. A browser may only reach the MCP endpoints from `ALLOWED_ORIGINS` or the server's own origin;
requests without an `Origin` (server-side clients) pass. `Host` must name this server, so a
rebound DNS name pointing at a local gateway is refused too. A gateway on loopback refuses its other
loopback names as well (localhost for 127.0.0.1, another port): its OAuth identity is PUBLIC_URL,
which clients compare with the URL they used, so the 421 names the address that works.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import is_loopback_host

ALLOWED_METHODS: Final = "GET, POST, DELETE, OPTIONS"
ALLOWED_HEADERS: Final = (
    "accept, authorization, content-type, last-event-id, mcp-method, mcp-name, mcp-protocol-version, "
    "mcp-session-id, x-api-key, x-openphone-api-key"
)
EXPOSED_HEADERS: Final = "mcp-protocol-version, mcp-session-id, www-authenticate"
PREFLIGHT_MAX_AGE_SECONDS: Final = 600
_DEFAULT_PORTS: Final = {"http": ":80", "https": ":443"}


def _authority(scheme: str, netloc: str) -> str:
    """`netloc` lower-cased, without the scheme's default port (RFC 3986 §6.2.3: the same authority)."""
    netloc = netloc.lower()
    return netloc.removesuffix(_DEFAULT_PORTS.get(scheme.lower(), "\0"))


def _origin(url: str) -> str:
    """`url` as scheme://authority, normalized; "" when it is malformed."""
    try:
        parts = urlsplit(url.rstrip("/"))
    except ValueError:
        return ""
    return f"{parts.scheme.lower()}://{_authority(parts.scheme, parts.netloc)}"


def _hostname(url: str) -> str:
    """The host of `url`, or "" when it is malformed (a hostile header must not raise)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


class OriginGuard:
    """Refuses foreign browser origins (403) and foreign Host names (421) on `paths`; answers CORS."""

    def __init__(
        self, app: ASGIApp, *, public_url: str, allowed_origins: Iterable[str], paths: Iterable[str]
    ) -> None:
        self.app = app
        public = urlsplit(public_url)
        self._scheme = public.scheme
        self._public_host = _authority(public.scheme, public.netloc)
        self._is_local = is_loopback_host(public.hostname or "")
        self._origins = frozenset(_origin(origin) for origin in [*allowed_origins, public_url])
        self._paths = frozenset(paths)
        self._elsewhere = {
            "error": "misdirected_request",
            "error_description": f"This server answers as {public.scheme}://{public.netloc}: connect to that "
            f"address (for example {public_url}/mcp), or set PUBLIC_URL to the address you use.",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin)(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["access-control-allow-origin"] = origin
                response_headers["access-control-expose-headers"] = EXPOSED_HEADERS
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _refusal(self, headers: Headers) -> Response | None:
        host = _authority(self._scheme, headers.get("host", ""))
        if host != self._public_host and self._is_local and is_loopback_host(_hostname(f"//{host}")):
            # Its OAuth identity is PUBLIC_URL, which clients compare with the URL they used (item 17).
            return JSONResponse(self._elsewhere, status_code=421)
        if host != self._public_host:
            return JSONResponse(
                {
                    "error": "misdirected_request",
                    "error_description": "This server does not answer for that Host.",
                },
                status_code=421,
            )
        origin = headers.get("origin")
        if origin is not None and not self._is_allowed_origin(origin):
            return JSONResponse(
                {
                    "error": "forbidden",
                    "error_description": "Requests from this browser origin are not allowed.",
                },
                status_code=403,
            )
        return None

    def _is_allowed_origin(self, origin: str) -> bool:
        normalized = _origin(origin)
        if normalized in self._origins:
            return True
        is_web = normalized.startswith(("http://", "https://"))
        return self._is_local and is_web and is_loopback_host(_hostname(normalized))

    def _preflight(self, origin: str) -> Response:
        return Response(
            status_code=204,
            headers={
                "access-control-allow-origin": origin,
                "access-control-allow-methods": ALLOWED_METHODS,
                "access-control-allow-headers": ALLOWED_HEADERS,
                "access-control-max-age": str(PREFLIGHT_MAX_AGE_SECONDS),
                "vary": "Origin",
            },
        )
