"""RFC 8414 (authorization server metadata), https://www.rfc-editor.org/rfc/rfc8414.

Clients discover every other endpoint from this document. It is served at
`/.well-known/oauth-authorization-server`, with the issuer's path inserted when `PUBLIC_URL` has
one (§3.1), and under the OpenID names MCP clients also try (`/.well-known/openid-configuration`,
both inserted and appended), since the MCP authorization spec tells clients to try them in turn.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from oauth.endpoints import Endpoints
from tools.scopes import SCOPES

GRANT_TYPES: Final = ("authorization_code", "refresh_token")
TOKEN_ENDPOINT_AUTH_METHODS: Final = ("none", "client_secret_post", "client_secret_basic")


class AuthorizationServerMetadata(BaseModel):
    """The RFC 8414 §2 document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    registration_endpoint: str
    revocation_endpoint: str
    scopes_supported: tuple[str, ...]
    response_types_supported: tuple[str, ...] = ("code",)
    response_modes_supported: tuple[str, ...] = ("query",)
    grant_types_supported: tuple[str, ...] = GRANT_TYPES
    code_challenge_methods_supported: tuple[str, ...] = ("S256",)
    token_endpoint_auth_methods_supported: tuple[str, ...] = TOKEN_ENDPOINT_AUTH_METHODS
    revocation_endpoint_auth_methods_supported: tuple[str, ...] = TOKEN_ENDPOINT_AUTH_METHODS
    # draft-ietf-oauth-client-id-metadata-document §4: an https client_id names its own metadata.
    client_id_metadata_document_supported: bool = True
    # RFC 9207 §3: every authorization response carries `iss`.
    authorization_response_iss_parameter_supported: bool = True


def authorization_server_metadata(endpoints: Endpoints) -> AuthorizationServerMetadata:
    return AuthorizationServerMetadata(
        issuer=endpoints.issuer,
        authorization_endpoint=endpoints.authorization,
        token_endpoint=endpoints.token,
        registration_endpoint=endpoints.registration,
        revocation_endpoint=endpoints.revocation,
        scopes_supported=tuple(SCOPES),
    )


def metadata_paths(public_path: str) -> tuple[str, ...]:
    """Every path the document is served at, for an issuer whose path is `public_path` ("" at the root)."""
    paths = [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ]
    if public_path:
        paths += [
            f"/.well-known/oauth-authorization-server{public_path}",  # RFC 8414 §3.1
            f"/.well-known/openid-configuration{public_path}",
            f"{public_path}/.well-known/openid-configuration",  # OpenID Connect Discovery §4.1
            f"{public_path}/.well-known/oauth-authorization-server",
        ]
    return tuple(paths)
