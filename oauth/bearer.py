"""RFC 6750 (Bearer token usage), https://www.rfc-editor.org/rfc/rfc6750: the gate's token check.

An access token is accepted only if it opens as this server's ACCESS token for this resource (type,
issuer, audience and expiry are checked when it is opened) and neither it nor its sign-in family was
revoked. The principal it yields carries the key and the granted scopes.
"""

from __future__ import annotations

from gateway.auth import Principal
from oauth.endpoints import Endpoints
from oauth.errors import InvalidToken
from oauth.sealing import Sealer, TokenType
from oauth.store import Store


class BearerVerifier:
    """The `gateway.auth.TokenVerifier` of this authorization server."""

    def __init__(self, sealer: Sealer, store: Store, endpoints: Endpoints) -> None:
        self._sealer = sealer
        self._store = store
        self._audience = endpoints.resource

    async def verify(self, token: str) -> Principal | None:
        try:
            claims = self._sealer.open(token, TokenType.ACCESS, audience=self._audience)
        except InvalidToken:
            return None
        if await self._store.is_revoked(claims.jti):
            return None
        if claims.fam is not None and await self._store.family_revoked(claims.fam):
            return None
        return Principal(
            api_key=claims.key, fingerprint=claims.sub, source="bearer", scopes=frozenset(claims.scope)
        )
