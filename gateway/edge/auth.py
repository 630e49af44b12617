"""The auth gate: every MCP request resolves to a principal or is refused with 401.

Sources, in order (DESIGN "Principals and credentials"):
1. `Authorization: Bearer <token>`, verified by the OAuth server's `TokenVerifier`;
2. `x-openphone-api-key` or `x-api-key`, the raw OpenPhone key;
3. `OPENPHONE_API_KEY` from the environment, only with `ALLOW_ENV_API_KEY=true`.
Never a key in a URL. The 401 challenge points at the endpoint's protected-resource metadata
(RFC 9728 §5.1) and says `error="invalid_token"` only when a token was presented (RFC 6750 §3.1).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from typing import Final, Protocol

from gateway.errors import InsufficientScope, Unauthorized
from gateway.keys import ServerKeys
from gateway.protocol.principal import CredentialSource, Principal
from gateway.settings import Settings
from tools.scopes import refusal

API_KEY_HEADERS: Final = ("x-openphone-api-key", "x-api-key")
# OpenPhone keys are short opaque ASCII tokens; anything far longer, or other characters, is not one.
# The bound also keeps the key small enough for the sealed OAuth tokens that carry it.
MAX_API_KEY_CHARS: Final = 256

CREDENTIAL_HEX_CHARS: Final = 16


def is_api_key_shaped(value: str) -> bool:
    """1 to MAX_API_KEY_CHARS visible ASCII characters: what an OpenPhone key can look like."""
    return 0 < len(value) <= MAX_API_KEY_CHARS and all("!" <= char <= "~" for char in value)


def key_credential(source: CredentialSource, fingerprint: str) -> str:
    """The credential of a caller holding the key itself: each source is a credential of its own."""
    return f"{source}:{fingerprint}"


@functools.lru_cache(maxsize=4096)
def bearer_credential(family: str, scopes: tuple[str, ...]) -> str:
    """The credential of an OAuth token: its sign-in (refresh family) and its exact scopes.

    An access token lives an hour, but a legacy SSE stream or a long call outlives it; the client
    then presents the refreshed token of the same sign-in, which must still be the same credential.
    Another sign-in for the same key, or a token refreshed to fewer scopes, is a different one. The
    family id is hashed, so the credential can be logged without naming anything a token carries.
    Remembered: every request of a sign-in asks again.
    """
    material = f"{family}\n{' '.join(sorted(scopes))}".encode()
    return f"bearer:{hashlib.sha256(material).hexdigest()[:CREDENTIAL_HEX_CHARS]}"


class TokenVerifier(Protocol):
    """Turns a Bearer token into a principal; the OAuth server provides the implementation."""

    async def verify(self, token: str) -> Principal | None:
        """The principal the token stands for, or None when it is not a valid token for this server."""


class Authenticator:
    """Resolves request headers to a `Principal`, or raises `Unauthorized`."""

    def __init__(
        self, settings: Settings, keys: ServerKeys, token_verifier: TokenVerifier | None = None
    ) -> None:
        self._keys = keys
        self._token_verifier = token_verifier
        self._metadata_base = f"{settings.public_origin}/.well-known/oauth-protected-resource"
        self._public_path = settings.public_path
        self._grant = settings.direct_key_grant
        env_key = settings.env_api_key
        self._env_principal = self._principal(env_key, "environment") if env_key else None

    async def authenticate(self, headers: Mapping[str, str], resource_path: str) -> Principal:
        """The caller's principal; `resource_path` ("/mcp" or "/sse") names the resource for the challenge."""
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                principal = await self._token_verifier.verify(token.strip()) if self._token_verifier else None
                if principal is None:
                    raise self._challenge(
                        resource_path, "The access token is invalid or expired.", bad_token=True
                    )
                return principal
        for name in API_KEY_HEADERS:
            value = headers.get(name)
            if value is not None:
                key = value.strip()
                if not is_api_key_shaped(key):
                    raise self._challenge(resource_path, f"The {name} header does not hold an API key.")
                return self._principal(key, "header")
        if self._env_principal is not None:
            return self._env_principal
        raise self._challenge(
            resource_path,
            "Authentication required: connect with OAuth, or send your OpenPhone API key in the "
            "x-openphone-api-key header.",
        )

    def insufficient_scope(self, resource_path: str, scope: str) -> InsufficientScope:
        """RFC 6750 §3.1: 403 naming the scope the token lacks, so the client can ask for it."""
        message = refusal(scope)
        challenge = (
            f'Bearer error="insufficient_scope", scope="{scope}", '
            f'resource_metadata="{self._metadata_url(resource_path)}"'
        )
        return InsufficientScope(message, challenge)

    def _metadata_url(self, resource_path: str) -> str:
        return f"{self._metadata_base}{self._public_path}{resource_path}"

    def _principal(self, api_key: str, source: CredentialSource) -> Principal:
        fingerprint = self._keys.fingerprint(api_key)
        return Principal(
            api_key=api_key,
            fingerprint=fingerprint,
            source=source,
            credential=key_credential(source, fingerprint),
            grant=self._grant,
            grant_id=fingerprint,
        )

    def _challenge(self, resource_path: str, message: str, *, bad_token: bool = False) -> Unauthorized:
        challenge = f'Bearer resource_metadata="{self._metadata_url(resource_path)}"'
        if bad_token:
            challenge += ', error="invalid_token"'
        return Unauthorized(message, challenge, bad_token=bad_token)
