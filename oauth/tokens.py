"""RFC 6749 §3.2, §4.1.3 and §6 (the token endpoint), with OAuth 2.1 refresh-token rotation.

https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 . Codes and tokens are sealed and carry the
user's key, so nothing is stored per token; three facts are stateful and go through the `Store`:
a code is spent once (§4.1.2: a reused code also revokes what it produced), a refresh token is
rotated (OAuth 2.1 §4.3.1: reuse after a short grace window revokes the whole family), and
revocation (RFC 7009). A family is named by the code that started it.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from gateway.keys import ServerKeys
from oauth.authorization import single_values
from oauth.client_auth import authenticate_client
from oauth.clients import ClientDirectory
from oauth.connections import Connection, ConnectionIndex, key_digest
from oauth.endpoints import Endpoints
from oauth.errors import (
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    InvalidToken,
    TemporarilyUnavailable,
    UnsupportedGrantType,
)
from oauth.pkce import verifier_matches
from oauth.registration import RegisteredClient
from oauth.sealing import Claims, Sealer, TokenType
from oauth.store import RefreshOutcome, Store, StoreUnavailable
from tools.grant import LEGACY_GRANT

# Seconds a client is asked to wait when the token state cannot be reached.
RETRY_AFTER_SECONDS: Final = 2

TOKEN_PARAMETERS: Final = (
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "resource",
    "client_id",
    "client_secret",
)


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """Seconds each artefact lives (the settings `ACCESS_TOKEN_SECONDS` and friends)."""

    code: float = 60
    access: float = 3600
    refresh: float = 30 * 24 * 3600
    refresh_grace: float = 30
    consent: float = 600

    @property
    def family(self) -> float:
        """How long any token of a sign-in can live: a refresh token minted at the end of the grace
        window lives this long from the rotation, so state and bans about a family last as long."""
        return self.refresh + self.refresh_grace + 1


class TokenEndpoint:
    """Exchanges codes and refresh tokens for sealed access and refresh tokens."""

    def __init__(
        self,
        sealer: Sealer,
        store: Store,
        clients: ClientDirectory,
        endpoints: Endpoints,
        lifetimes: Lifetimes,
        connections: tuple[ConnectionIndex, ServerKeys],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`connections`: the index each new sign-in is added to, and the keys its digest is made with."""
        self._sealer = sealer
        self._index, self._keys = connections
        self._store = store
        self._clients = clients
        self._endpoints = endpoints
        self._lifetimes = lifetimes
        self._clock = clock

    async def exchange(self, pairs: list[tuple[str, str]], headers: Mapping[str, str]) -> dict[str, Any]:
        """The token response (§5.1), or a ProtocolError for §5.2 (503 when the state is unreachable)."""
        try:
            return await self._exchange(pairs, headers)
        except StoreUnavailable:
            raise TemporarilyUnavailable(
                "the token service is briefly unavailable; try again", unavailable_headers()
            ) from None

    async def _exchange(self, pairs: list[tuple[str, str]], headers: Mapping[str, str]) -> dict[str, Any]:
        form = single_values(pairs, TOKEN_PARAMETERS)
        client = await authenticate_client(form, headers, self._clients)
        grant_type = form.get("grant_type")
        resource = form.get("resource")
        if resource is not None and not self._endpoints.accepts_resource(resource):
            raise InvalidTarget("resource must be this server's MCP endpoint")
        if grant_type == "authorization_code":
            return await self._authorization_code(form, client)
        if grant_type == "refresh_token":
            return await self._refresh(form, client)
        if grant_type is None:
            raise InvalidRequest("grant_type is required")
        raise UnsupportedGrantType("grant_type must be authorization_code or refresh_token")

    async def _authorization_code(self, form: Mapping[str, str], client: RegisteredClient) -> dict[str, Any]:
        code = _required(form, "code")
        verifier = _required(form, "code_verifier")
        claims = self._open(code, TokenType.CODE, "the authorization code is invalid or expired")
        _same_client(claims, client)
        # RFC 6749 §4.1.3: redirect_uri, when sent, must be the one of the authorization request.
        redirect_uri = form.get("redirect_uri")
        if redirect_uri is not None and redirect_uri != claims.redirect_uri:
            raise InvalidGrant("redirect_uri differs from the authorization request")
        # RFC 7636 §4.6: checked before the code is spent, so a wrong guess cannot burn it.
        if claims.code_challenge is None or not verifier_matches(verifier, claims.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge")
        # Indexed before the code is spent: when the index is unreachable the 503 leaves the code
        # usable, and a replay re-adds the same family, which the store bans (issue 25).
        await self._index_sign_in(claims, client)
        # RFC 6749 §4.1.2: a code used twice revokes the tokens it was exchanged for (the store does).
        if not await self._store.redeem_code(
            claims.jti, code_ttl=self._remaining(claims), family_ttl=self._lifetimes.family
        ):
            raise InvalidGrant("the authorization code was already used")
        return self._issue(claims, claims.scope, family=claims.jti, generation=1)

    async def _refresh(self, form: Mapping[str, str], client: RegisteredClient) -> dict[str, Any]:
        token = _required(form, "refresh_token")
        claims = self._open(token, TokenType.REFRESH, "the refresh token is invalid or expired")
        _same_client(claims, client)
        scope = claims.scope
        if "scope" in form:
            scope = tuple(dict.fromkeys(form["scope"].split()))
            # RFC 6749 §6: a refresh may narrow the scope, never widen it.
            if not scope or not set(scope) <= set(claims.scope):
                raise InvalidScope("scope must be a subset of the scope originally granted")
        family = claims.fam or claims.jti
        if self._store.is_revoked(claims.jti, family):
            raise InvalidGrant("this sign-in was revoked; connect again")
        # Tokens sealed before generations existed carry none: they are generation 0.
        rotation = await self._store.rotate_refresh(
            family, claims.gen or 0, grace=self._lifetimes.refresh_grace, family_ttl=self._lifetimes.family
        )
        if rotation.outcome is RefreshOutcome.REUSED:
            raise InvalidGrant("the refresh token was already used; every token of this sign-in is revoked")
        if rotation.outcome is RefreshOutcome.REVOKED:
            raise InvalidGrant("this sign-in was revoked; connect again")
        return self._issue(claims, scope, family=family, generation=rotation.generation)

    async def _index_sign_in(self, claims: Claims, client: RegisteredClient) -> None:
        now = self._clock()
        connection = Connection(
            family=claims.jti,
            client_name=client.display_name,
            redirect_host=urlsplit(claims.redirect_uri or "").netloc,
            scopes=claims.scope,
            granted_at=now,
            expires_at=now + self._lifetimes.family,
            grant=claims.grd or LEGACY_GRANT,
        )
        await self._index.add(key_digest(self._keys, claims.key), connection)

    def _issue(
        self, grant: Claims, scope: tuple[str, ...], *, family: str, generation: int
    ) -> dict[str, Any]:
        """§5.1: a Bearer access token and a rotated refresh token, both sealed."""
        access, refresh = (
            self._sealer.new_claims(
                token_type,
                aud=grant.aud,
                sub=grant.sub,
                cid=grant.cid,
                scope=scope,
                key=grant.key,
                lifetime=lifetime,
                fam=family,
                gen=gen,
                # The person's choices, copied as sealed: a refresh never widens them (issue 23).
                grd=grant.grd,
                cnm=grant.cnm,
            )
            for token_type, lifetime, gen in (
                (TokenType.ACCESS, self._lifetimes.access, None),
                (TokenType.REFRESH, self._lifetimes.refresh, generation),
            )
        )
        return {
            "access_token": self._sealer.seal(access),
            "token_type": "Bearer",
            "expires_in": int(self._lifetimes.access),
            "refresh_token": self._sealer.seal(refresh),
            "scope": " ".join(scope),
        }

    def _open(self, token: str, token_type: TokenType, message: str) -> Claims:
        try:
            return self._sealer.open(token, token_type, audience=self._endpoints.resource)
        except InvalidToken:
            raise InvalidGrant(message) from None

    def _remaining(self, claims: Claims) -> float:
        return max(1.0, claims.exp - self._clock() + 1)


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise InvalidRequest(f"{name} is required")
    return value


def _same_client(claims: Claims, client: RegisteredClient) -> None:
    if not hmac.compare_digest(claims.cid.encode(), client.client_id.encode()):
        raise InvalidGrant("this grant was issued to another client")


def unavailable_headers() -> dict[str, str]:
    """What a 503 from the token state tells the client: when to try again."""
    return {"retry-after": str(RETRY_AFTER_SECONDS)}
