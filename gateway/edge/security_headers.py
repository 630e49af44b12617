"""Security headers on every response, as the `secure` package writes them (DESIGN "Security posture").

Every response gets nosniff, a referrer policy, a permissions policy that grants nothing, a frame
policy of DENY, and HSTS when the gateway is served over https (`PUBLIC_URL`). A response that has
no Content-Security-Policy of its own (JSON, SSE, redirects) gets one that allows nothing; HTML
pages set their own, with a per-request nonce, and keep it. The cross-origin opener and resource
policies apply to HTML and static files only: the JSON and SSE endpoints are fetched cross-origin
with CORS by browser-based MCP and OAuth clients, which those policies must not get in the way of.

The values are the ones `secure` writes for this policy, kept here as constants and held equal to
the package's output by tests/gateway/edge/test_security_headers.py: importing `secure` took about
9 ms of every start (README "Performance") to produce these few fixed strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

# One year, as HSTS preload lists expect; subdomains are the operator's, so they are not included.
HSTS_SECONDS: Final = 31_536_000
# secure.StrictTransportSecurity().max_age(HSTS_SECONDS), sent only over https.
HSTS: Final = ("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
# secure.PermissionsPolicy().geolocation().microphone().camera(),
# secure.ReferrerPolicy().strict_origin_when_cross_origin(), secure.XContentTypeOptions(),
# secure.XFrameOptions().deny(), in the order `secure.Secure` writes them.
BASELINE: Final = (
    ("Permissions-Policy", "geolocation=(), microphone=(), camera=()"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
)
# secure.CrossOriginOpenerPolicy().same_origin(), secure.CrossOriginResourcePolicy().same_origin().
DOCUMENTS: Final = (
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
NOTHING_ALLOWED: Final = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_DOCUMENT_TYPES: Final = (b"text/html", b"text/css", b"text/javascript", b"application/javascript", b"image/")


Headers = list[tuple[bytes, bytes]]


def _encode(headers: Iterable[tuple[str, str]]) -> Headers:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class SecurityHeaders:
    """The baseline headers, encoded once, added to a response without overriding what a route set."""

    def __init__(self, *, https: bool) -> None:
        baseline = _encode(((HSTS,) if https else ()) + BASELINE)
        csp = (b"content-security-policy", NOTHING_ALLOWED.encode())
        # The two complete sets, by kind of response: data (JSON, SSE, redirects) and documents.
        self._for_data: Headers = [*baseline, csp]
        self._for_documents: Headers = [*baseline, *_encode(DOCUMENTS), csp]
        self._names = frozenset(name for name, _ in self._for_documents)

    def complete(self, headers: Headers) -> Headers:
        """`headers` followed by every baseline header they do not set."""
        present: set[bytes] = set()
        document = False
        for raw_name, value in headers:
            name = raw_name.lower()
            present.add(name)
            if name == b"content-type":
                document = value.lower().startswith(_DOCUMENT_TYPES)
        extra = self._for_documents if document else self._for_data
        if present.isdisjoint(self._names):
            return headers + extra
        return headers + [(name, value) for name, value in extra if name not in present]
