"""Security headers on every response, from the `secure` package (DESIGN "Security posture").

Every response gets nosniff, a referrer policy, a permissions policy that grants nothing, a frame
policy of DENY, and HSTS when the gateway is served over https (`PUBLIC_URL`). A response that has
no Content-Security-Policy of its own (JSON, SSE, redirects) gets one that allows nothing; HTML
pages set their own, with a per-request nonce, and keep it. The cross-origin opener and resource
policies apply to HTML and static files only: the JSON and SSE endpoints are fetched cross-origin
with CORS by browser-based MCP and OAuth clients, which those policies must not get in the way of.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import secure
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# One year, as HSTS preload lists expect; subdomains are the operator's, so they are not included.
HSTS_SECONDS: Final = 31_536_000
NOTHING_ALLOWED: Final = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_DOCUMENT_TYPES: Final = (b"text/html", b"text/css", b"text/javascript", b"application/javascript", b"image/")


def _encode(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class SecurityHeaders:
    """Pure ASGI middleware adding the baseline headers without overriding what a route set."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self._app = app
        baseline = secure.Secure(
            xcto=secure.XContentTypeOptions(),
            referrer=secure.ReferrerPolicy().strict_origin_when_cross_origin(),
            xfo=secure.XFrameOptions().deny(),
            permissions=secure.PermissionsPolicy().geolocation().microphone().camera(),
            hsts=secure.StrictTransportSecurity().max_age(HSTS_SECONDS) if https else None,
        )
        documents = secure.Secure(
            coop=secure.CrossOriginOpenerPolicy().same_origin(),
            corp=secure.CrossOriginResourcePolicy().same_origin(),
        )
        self._baseline = _encode(baseline.headers)
        self._documents = _encode(documents.headers)
        self._csp = (b"content-security-policy", NOTHING_ALLOWED.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self._complete(list(message.get("headers", [])))}
            await send(message)

        await self._app(scope, receive, with_headers)

    def _complete(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        content_type = next(
            (value.lower() for name, value in headers if name.lower() == b"content-type"), b""
        )
        extra = list(self._baseline)
        if content_type.startswith(_DOCUMENT_TYPES):
            extra += self._documents
        if b"content-security-policy" not in present:
            extra.append(self._csp)
        return headers + [(name, value) for name, value in extra if name not in present]
