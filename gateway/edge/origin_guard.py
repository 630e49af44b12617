"""DNS-rebinding defence and CORS for the MCP endpoints (applied by `gateway.edge.entry`).

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

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, Response

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
    """Decides whether a request may reach the guarded `paths`: 421 for a foreign Host, 403 for a
    foreign browser Origin; answers CORS preflights and adds CORS headers for allowed origins."""

    def __init__(self, *, public_url: str, allowed_origins: Iterable[str], paths: Iterable[str]) -> None:
        public = urlsplit(public_url)
        self._scheme = public.scheme
        self._public_host = _authority(public.scheme, public.netloc)
        self._is_local = is_loopback_host(public.hostname or "")
        self._origins = frozenset(_origin(origin) for origin in [*allowed_origins, public_url])
        self.paths = frozenset(paths)
        self._elsewhere = {
            "error": "misdirected_request",
            "error_description": f"This server answers as {public.scheme}://{public.netloc}: connect to that "
            f"address (for example {public_url}/mcp), or set PUBLIC_URL to the address you use.",
        }

    def refusal(self, host: str, origin: str | None) -> Response | None:
        """The response refusing a request with these `Host` and `Origin` headers, or None."""
        host = _authority(self._scheme, host)
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

    @staticmethod
    def preflight(origin: str) -> Response:
        """The answer to a CORS preflight from an allowed `origin`."""
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

    @staticmethod
    def add_cors(headers: list[tuple[bytes, bytes]], origin: str) -> None:
        """Let the allowed `origin` read the response with `headers` (changed in place)."""
        response_headers = MutableHeaders(raw=headers)
        response_headers["access-control-allow-origin"] = origin
        response_headers["access-control-expose-headers"] = EXPOSED_HEADERS
        response_headers.add_vary_header("Origin")
