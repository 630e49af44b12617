"""RFC 7009 (token revocation), https://www.rfc-editor.org/rfc/rfc7009.

Revoking a refresh token ends its whole sign-in (the family, and so every access token minted from
it, §2.1 "SHOULD also invalidate the access tokens"); revoking an access token ends that token. An
unknown, invalid or foreign token still gets 200 (§2.2), so the endpoint answers no questions about
tokens it did not issue to the caller.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping

from gateway.keys import ServerKeys
from oauth.authorization import single_values
from oauth.client_auth import authenticate_client
from oauth.clients import ClientDirectory
from oauth.connections import ConnectionIndex, key_digest
from oauth.errors import InvalidRequest, InvalidToken, TemporarilyUnavailable
from oauth.sealing import Claims, Sealer, TokenType
from oauth.store import Store, StoreUnavailable
from oauth.tokens import unavailable_headers

REVOCATION_PARAMETERS = ("token", "token_type_hint", "client_id", "client_secret")


class RevocationEndpoint:
    """Revokes tokens; a family's ban lasts `family_ttl`, as long as any token of the family can."""

    def __init__(
        self,
        sealer: Sealer,
        store: Store,
        clients: ClientDirectory,
        family_ttl: float,
        connections: tuple[ConnectionIndex, ServerKeys],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`connections`: the index a revoked sign-in leaves, and the keys its digest is made with."""
        self._sealer = sealer
        self._index, self._keys = connections
        self._store = store
        self._clients = clients
        self._family_ttl = family_ttl
        self._clock = clock

    async def revoke(self, pairs: list[tuple[str, str]], headers: Mapping[str, str]) -> None:
        """Revoke the token named in the form; 503 (RFC 7009 §2.2.1) when the state is unreachable."""
        try:
            await self._revoke(pairs, headers)
        except StoreUnavailable:
            raise TemporarilyUnavailable(
                "the revocation service is briefly unavailable; try again", unavailable_headers()
            ) from None

    async def _revoke(self, pairs: list[tuple[str, str]], headers: Mapping[str, str]) -> None:
        form = single_values(pairs, REVOCATION_PARAMETERS)
        client = await authenticate_client(form, headers, self._clients)
        token = form.get("token")
        if token is None:
            raise InvalidRequest("token is required")
        # §2.1: the hint only decides which type is tried first.
        order = [TokenType.REFRESH, TokenType.ACCESS]
        if form.get("token_type_hint") == "access_token":
            order.reverse()
        claims = self._identify(token, order)
        if claims is None or not hmac.compare_digest(claims.cid.encode(), client.client_id.encode()):
            return
        if claims.typ is TokenType.REFRESH:
            # A younger refresh token of the family outlives this one: the ban must outlive them all.
            family = claims.fam or claims.jti
            await self._store.revoke_family(family, ttl=self._family_ttl)
            await self._index.remove(key_digest(self._keys, claims.key), family)
        await self._store.revoke_token(claims.jti, ttl=max(1.0, claims.exp - self._clock() + 1))

    def _identify(self, token: str, order: list[TokenType]) -> Claims | None:
        for token_type in order:
            try:
                return self._sealer.open(token, token_type)
            except InvalidToken:
                continue
        return None
