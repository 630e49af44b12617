"""Where this server's OAuth endpoints and protected resources live, derived once from `PUBLIC_URL`.

The issuer is `PUBLIC_URL` exactly (RFC 8414 §2); the endpoints sit under it; the protected resources
are the MCP endpoints `/mcp` and `/sse`. One access token serves both: they are one server, so the
canonical audience is the `/mcp` URL and a `resource` naming either endpoint (or the server itself)
is accepted (RFC 8707 §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.settings import Settings

RESOURCE_PATHS: Final = ("/mcp", "/sse")


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Absolute URLs of the authorization server and its protected resources."""

    issuer: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        return cls(issuer=settings.public_url)

    @property
    def authorization(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token(self) -> str:
        return f"{self.issuer}/token"

    @property
    def registration(self) -> str:
        return f"{self.issuer}/register"

    @property
    def revocation(self) -> str:
        return f"{self.issuer}/revoke"

    @property
    def resource(self) -> str:
        """The canonical resource (and token audience): the Streamable HTTP endpoint."""
        return f"{self.issuer}/mcp"

    def resource_for(self, path: str) -> str:
        """The resource URL of one MCP endpoint path ("/mcp" or "/sse")."""
        return f"{self.issuer}{path}"

    def accepts_resource(self, resource: str) -> bool:
        """Whether a `resource` parameter names this server (RFC 8707 §2: an absolute URI, no fragment)."""
        candidate = resource.removesuffix("/")
        return candidate == self.issuer or candidate in {self.resource_for(path) for path in RESOURCE_PATHS}
