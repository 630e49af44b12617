"""RFC 9728 (OAuth 2.0 protected resource metadata), https://www.rfc-editor.org/rfc/rfc9728.

A client that meets a 401 reads this to learn which authorization server protects the MCP endpoint.
It is served for each endpoint at `/.well-known/oauth-protected-resource` with the endpoint's path
inserted (§3.1), and at the bare well-known path for clients that try the root.
"""

from __future__ import annotations

from pydantic import BaseModel

from oauth.endpoints import RESOURCE_PATHS, Endpoints
from tools.scopes import SCOPES

WELL_KNOWN = "/.well-known/oauth-protected-resource"


class ProtectedResourceMetadata(BaseModel):
    """The RFC 9728 §2 document."""

    resource: str
    authorization_servers: tuple[str, ...]
    scopes_supported: tuple[str, ...]
    bearer_methods_supported: tuple[str, ...] = ("header",)
    resource_name: str = "OpenPhone MCP Gateway"


def resource_metadata(endpoints: Endpoints, path: str) -> ProtectedResourceMetadata:
    """The document for the MCP endpoint at `path`; `resource` is that endpoint's full URL (§3.3)."""
    return ProtectedResourceMetadata(
        resource=endpoints.resource_for(path),
        # §3.3: the client compares this with the AS metadata's `issuer`, so it is the issuer exactly.
        authorization_servers=(endpoints.issuer,),
        scopes_supported=tuple(SCOPES),
    )


def resource_metadata_paths(public_path: str) -> dict[str, str]:
    """Each well-known path and the MCP endpoint path it describes."""
    paths = {f"{WELL_KNOWN}{public_path}{path}": path for path in RESOURCE_PATHS}
    paths[WELL_KNOWN] = RESOURCE_PATHS[0]
    if public_path:
        paths[f"{WELL_KNOWN}{public_path}"] = RESOURCE_PATHS[0]
    return paths
