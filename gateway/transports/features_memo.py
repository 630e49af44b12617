"""What a Streamable HTTP client declared at `initialize`, handed back to it as its `Mcp-Session-Id`.

This transport keeps no sessions (any machine answers any request), yet how a held send asks for
confirmation depends on what the client declared once, at `initialize` (URL elicitation, MCP Apps
views). So when a handshake-era client declares one of them, the answer names a session whose id is
that declaration, signed and bound to the credential that made it (salted per session, as legacy SSE
ids are): the client echoes it on every request (2025-03-26 transports: it MUST), and any machine reads
it back. A client that declares neither gets no session id, as before. An id that fails the check
is read as declaring nothing: it only ever narrows what the gateway offers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from itsdangerous import BadData, URLSafeSerializer

from gateway.keys import ServerKeys
from gateway.protocol.client_features import NO_FEATURES, ClientFeatures

SESSION_HEADER: Final = "mcp-session-id"
_FLAGS: Final = (("form", "f"), ("url", "u"), ("apps", "a"))


class FeaturesMemo:
    """Signs a client's declared features into a session id, and reads them back for its credential."""

    def __init__(self, keys: ServerKeys) -> None:
        # itsdangerous signs with the last key and verifies with all of them.
        self._signer = URLSafeSerializer(list(reversed(keys.derive("streamable-session"))))

    def issue(self, features: ClientFeatures, credential: str) -> str | None:
        """The session id to hand out, or None when the client declared nothing the gateway uses."""
        if not (features.url or features.apps):
            return None
        nonce = secrets.token_urlsafe(12)
        flags = "".join(flag for name, flag in _FLAGS if getattr(features, name))
        return self._signer.dumps([nonce, _binding(nonce, credential), flags])

    def read(self, session_id: str | None, credential: str) -> ClientFeatures:
        """The features a genuine id of this credential names; anything else names none."""
        if not session_id:
            return NO_FEATURES
        try:
            claims = self._signer.loads(session_id)
        except BadData:
            return NO_FEATURES
        if not (isinstance(claims, list) and len(claims) == 3 and all(isinstance(c, str) for c in claims)):
            return NO_FEATURES
        nonce, binding, flags = claims
        if not hmac.compare_digest(binding, _binding(nonce, credential)):
            return NO_FEATURES
        return ClientFeatures(**{name: flag in flags for name, flag in _FLAGS})


def _binding(nonce: str, credential: str) -> str:
    return hashlib.sha256(f"{nonce}\n{credential}".encode()).hexdigest()
