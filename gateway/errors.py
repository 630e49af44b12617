"""The gateway's exception tree.

GatewayError
├── SettingsError            a setting is missing or malformed; start-up stops
├── HTTPError                a request is refused before it reaches the protocol core
│   ├── Unauthorized         no usable credential (401, with a WWW-Authenticate challenge)
│   └── SessionNotFound      an SSE session is unknown, closed or not the caller's (404)
└── JSONRPCError             a JSON-RPC 2.0 error object, carrying its code
    ├── ParseError           -32700: the body is not JSON
    ├── InvalidRequest       -32600: the body is JSON but not a valid request object
    ├── MethodNotFound       -32601: no such method in the negotiated revision
    ├── InvalidParams        -32602: the params fail the method's schema
    ├── InternalError        -32603: the server failed; never carries details
    ├── ResourceNotFound     -32002: resources/read of an unknown URI (before 2026-07-28)
    ├── URLElicitationRequired  -32042: a person must finish a step at a URL first (2025-11-25)
    ├── HeaderMismatch       -32020: an HTTP routing header disagrees with the body (2026-07-28)
    └── UnsupportedProtocolVersion  -32022: the requested revision is not served (2026-07-28)

The codes are JSON-RPC 2.0 §5.1's and MCP's. They are written here rather than read from
`mcp_types.jsonrpc`, whose package import alone costs more start-up than the rest of the protocol core;
tests/gateway/test_mcp_types_agreement.py holds each one to the library's value.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class SettingsError(GatewayError):
    """Raised when the environment holds a missing or malformed setting."""


class HTTPError(GatewayError):
    """Raised when a request is refused at the HTTP layer; renders as a JSON body."""

    def __init__(
        self, status_code: int, message: str, headers: dict[str, str] | None = None, error: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.headers = headers or {}
        self.error = error


class Unauthorized(HTTPError):
    """Raised when an MCP request carries no credential the gate accepts.

    The body's `error` is "invalid_token" only for a presented token, as in the challenge; without a
    token there is no error code (RFC 6750 §3.1), so the body says "unauthorized".
    """

    def __init__(self, message: str, challenge: str, *, bad_token: bool = False) -> None:
        super().__init__(
            401,
            message,
            {"www-authenticate": challenge},
            error="invalid_token" if bad_token else "unauthorized",
        )


class InsufficientScope(HTTPError):
    """Raised when an OAuth token lacks the scope a tool needs (RFC 6750 §3.1)."""

    def __init__(self, message: str, challenge: str) -> None:
        super().__init__(403, message, {"www-authenticate": challenge}, error="insufficient_scope")


class SessionNotFound(HTTPError):
    """Raised when a legacy SSE session id is unknown, closed, forged or bound to another credential."""

    def __init__(self) -> None:
        super().__init__(404, "Unknown or closed session; open a new SSE stream.")


class JSONRPCError(GatewayError):
    """A JSON-RPC 2.0 error; `code` is the wire code and `data` optional structured detail."""

    code: ClassVar[int] = -32603

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_error(self) -> dict[str, Any]:
        """The wire `error` member."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class ParseError(JSONRPCError):
    """Raised when a body is not valid JSON."""

    code = -32700


class InvalidRequest(JSONRPCError):
    """Raised when a body is JSON but not a valid JSON-RPC request, or is a batch where none is allowed."""

    code = -32600


class MethodNotFound(JSONRPCError):
    """Raised when a method does not exist in the revision the request speaks."""

    code = -32601


class InvalidParams(JSONRPCError):
    """Raised when a request's params do not fit the method."""

    code = -32602


class InternalError(JSONRPCError):
    """Raised for a server-side failure; the message never carries details of it."""

    code = -32603


class HeaderMismatch(JSONRPCError):
    """Raised when MCP-Protocol-Version, Mcp-Method or Mcp-Name disagree with the body (2026-07-28)."""

    code = -32020


class UnsupportedProtocolVersion(JSONRPCError):
    """Raised when a request names a protocol revision this server does not serve."""

    code = -32022


class ResourceNotFound(JSONRPCError):
    """Raised by resources/read for an unknown URI before 2026-07-28 (which uses -32602 instead)."""

    code = -32002


class URLElicitationRequired(JSONRPCError):
    """Raised when a tools/call waits for a person at a URL (2025-11-25 client/elicitation, SEP-1036);
    `data.elicitations` lists the URL-mode requests. 2026-07-28 reserves the code and never reuses it."""

    code = -32042
