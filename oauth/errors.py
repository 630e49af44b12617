"""The oauth package's exception tree.

OAuthError
├── InvalidToken            a sealed token did not open; `reason` says why, never the token
└── ProtocolError           an error answered on the wire (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2)
    ├── InvalidRequest, InvalidClient (401), InvalidGrant, UnauthorizedClient, UnsupportedGrantType,
    ├── UnsupportedResponseType, InvalidScope, InvalidTarget (RFC 8707), AccessDenied,
    ├── InvalidRedirectURI, InvalidClientMetadata (RFC 7591)
    ├── TooManyRequests (429)
    └── TemporarilyUnavailable (503)
"""

from __future__ import annotations

from typing import ClassVar


class OAuthError(Exception):
    """Base of every error the oauth package raises on purpose."""


class InvalidToken(OAuthError):
    """Raised when a sealed token is malformed, undecryptable, of the wrong type, issuer or audience,
    expired or not yet valid.

    `reason` is one of "malformed", "undecryptable", "wrong-type", "wrong-issuer", "wrong-audience",
    "expired", "not-yet-valid"; it is safe to log, and it is the whole message.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProtocolError(OAuthError):
    """An OAuth error answered on the wire: `error` is the RFC code, `status` the HTTP status."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400

    def __init__(self, description: str, headers: dict[str, str] | None = None) -> None:
        # RFC 6749 §5.2: error_description is printable ASCII without '"' or '\\'.
        description = "".join(char for char in description if 0x20 <= ord(char) <= 0x7E and char not in '"\\')
        super().__init__(description)
        self.description = description
        self.headers = headers or {}


class InvalidRequest(ProtocolError):
    """A parameter is missing, repeated or malformed (RFC 6749 §4.1.2.1, §5.2)."""

    error = "invalid_request"


class InvalidClient(ProtocolError):
    """The client is unknown or failed to authenticate (RFC 6749 §5.2); Claude re-registers on it."""

    error = "invalid_client"
    status = 401


class InvalidGrant(ProtocolError):
    """The code or refresh token is invalid, expired, spent, revoked or not this client's (RFC 6749 §5.2)."""

    error = "invalid_grant"


class UnauthorizedClient(ProtocolError):
    """The client may not use this grant type (RFC 6749 §5.2)."""

    error = "unauthorized_client"


class UnsupportedGrantType(ProtocolError):
    """The grant type is not one this server supports (RFC 6749 §5.2)."""

    error = "unsupported_grant_type"


class UnsupportedResponseType(ProtocolError):
    """The response type is not `code` (RFC 6749 §4.1.2.1)."""

    error = "unsupported_response_type"


class InvalidScope(ProtocolError):
    """A requested scope is unknown or wider than granted (RFC 6749 §5.2)."""

    error = "invalid_scope"


class InvalidTarget(ProtocolError):
    """The `resource` is not this server (RFC 8707 §2)."""

    error = "invalid_target"


class AccessDenied(ProtocolError):
    """The user pressed Deny on the consent page (RFC 6749 §4.1.2.1)."""

    error = "access_denied"


class InvalidRedirectURI(ProtocolError):
    """A registered redirect URI is not acceptable (RFC 7591 §3.2.2)."""

    error = "invalid_redirect_uri"


class InvalidClientMetadata(ProtocolError):
    """Registration metadata is not acceptable (RFC 7591 §3.2.2)."""

    error = "invalid_client_metadata"


class TooManyRequests(ProtocolError):
    """A client IP went over an endpoint's rate limit."""

    error = "too_many_requests"
    status = 429


class TemporarilyUnavailable(ProtocolError):
    """The shared token state cannot be reached; nothing was decided (the error code is RFC 6749
    §4.1.2.1's: §5.2 has none for a server failure, and `invalid_grant` would make clients discard
    credentials that are still good)."""

    error = "temporarily_unavailable"
    status = 503
