"""RFC 6750 (Bearer token usage), https://www.rfc-editor.org/rfc/rfc6750: the gate's token check.

An access token is accepted only if it opens as this server's ACCESS token for this resource (type,
issuer, audience and expiry are checked when it is opened) and neither it nor its sign-in family was
revoked. The revocation check is answered in this process (the store's local copy), so a Bearer is
checked without waiting on any network. The principal it yields carries the key and the granted scopes.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.edge.auth import bearer_credential
from gateway.protocol.principal import Principal
from oauth.endpoints import Endpoints
from oauth.errors import InvalidToken
from oauth.last_used import LastUsed
from oauth.sealing import Sealer, TokenType
from oauth.store import Store, family_revocation, token_revocation
from tools.grant import LEGACY_GRANT


class BearerVerifier:
    """The `gateway.auth.TokenVerifier` of this authorization server."""

    def __init__(
        self,
        sealer: Sealer,
        store: Store,
        endpoints: Endpoints,
        observe: Callable[[str], None] | None = None,
        last_used: LastUsed | None = None,
    ) -> None:
        """`last_used` is told of each accepted token of a sign-in (it never waits on anything)."""
        self._sealer = sealer
        self._store = store
        self._audience = endpoints.resource
        self._observe = observe or _ignore
        self._last_used = last_used

    async def verify(self, token: str) -> Principal | None:
        """The token's principal, or None; each verification is counted by result."""
        try:
            claims = self._sealer.open(token, TokenType.ACCESS, audience=self._audience)
        except InvalidToken as exc:
            self._observe(exc.reason)
            return None
        if self._store.is_revoked(claims.jti, claims.fam):
            self._observe("revoked")
            return None
        self._observe("valid")
        family = claims.fam or claims.jti
        if self._last_used is not None and claims.fam is not None:
            self._last_used.note(claims.key, claims.fam)
        return Principal(
            api_key=claims.key,
            fingerprint=claims.sub,
            source="bearer",
            credential=bearer_credential(family, claims.scope),
            scopes=frozenset(claims.scope),
            # Tokens sealed before grants existed: all inboxes, ask before each send (issue 23).
            grant=claims.grd or LEGACY_GRANT,
            grant_id=family,
            client_name=claims.cnm,
            revocation_ids=(token_revocation(claims.jti), family_revocation(family)),
        )


def _ignore(result: str) -> None:
    """The observer used when nobody counts verifications."""
