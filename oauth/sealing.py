"""RFC 7516 JWE Compact Serialization (https://www.rfc-editor.org/rfc/rfc7516#section-7.1): sealed tokens.

Authorization codes, access and refresh tokens and the consent page's request all carry the user's
OpenPhone API key, so they are encrypted and authenticated (alg "dir", enc "A256GCM"), never only
signed. A token holds everything it grants, so the server keeps no per-token state; `oauth.store`
holds the few exceptions (single use, revocation, refresh rotation).

Each token type has its own key ring derived from `SECRET_KEYS`, so a token of one type never even
decrypts as another. The protected header names the key (`kid`), so tokens sealed under an older
`SECRET_KEYS` entry still open while new ones use the current key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Final, TypedDict, Unpack

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.keys import ServerKeys
from oauth.errors import InvalidToken
from tools.grant import Grant

# Fits the largest claims the endpoints accept (a 1024-character client_id, a 512-character redirect
# URI and state, a 256-character key, a grant naming 50 inboxes, a 64-character client name) with
# room for a long PUBLIC_URL; tests/oauth/test_sealing.py. Typical tokens stay near 1 KB.
MAX_TOKEN_CHARS: Final = 9216
IAT_SKEW_SECONDS: Final = 60
KID_HEX_CHARS: Final = 8
JTI_BYTES: Final = 16
# Access tokens opened lately, so a client's every request does not decrypt and parse its token
# again: 12-14 MiB at this cap with typical client ids, at most 33 MiB with 4,096-character tokens.
OPENED_CACHE_SIZE: Final = 4096

_ALG: Final = "dir"
_ENC: Final = "A256GCM"
# RFC 7518 §5.3: A256GCM uses a 96-bit IV and a 128-bit authentication tag.
_IV_BYTES: Final = 12
_TAG_BYTES: Final = 16
# Our header is about 70 characters; the bound also keeps hostile JSON too shallow to exhaust recursion.
_MAX_HEADER_CHARS: Final = 256
_HEADER_MEMBERS: Final = frozenset({"alg", "enc", "kid"})
# RFC 7516 §5.2 step 10: with direct encryption the JWE Encrypted Key (the second segment) is empty.
_COMPACT: Final = re.compile(r"([A-Za-z0-9_-]+)\.\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")
_REGISTRY: Final = jwe.JWERegistry(algorithms=[_ALG, _ENC])


class TokenType(StrEnum):
    """What a sealed token is for; each type has its own key ring."""

    CODE = "code"
    ACCESS = "access"
    REFRESH = "refresh"
    CONSENT = "consent"


class Claims(BaseModel):
    """The sealed content of a token. `key` (the OpenPhone API key) never appears in repr or str."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    typ: TokenType
    iss: str
    aud: str
    sub: str
    cid: str
    scope: tuple[str, ...]
    key: str = Field(repr=False)
    iat: int
    exp: int
    jti: str
    fam: str | None = None
    gen: int | None = None
    redirect_uri: str | None = None
    code_challenge: str | None = None
    state: str | None = None
    # What the person let the assistant do (tools/grant.py); absent from tokens sealed before it.
    grd: Grant | None = None
    # The client's name as the consent page showed it, for audit lines.
    cnm: str | None = None


class ExtraClaims(TypedDict, total=False):
    """The optional claims `Sealer.new_claims` accepts by keyword."""

    fam: str | None
    gen: int | None
    redirect_uri: str | None
    code_challenge: str | None
    state: str | None
    grd: Grant | None
    cnm: str | None


def _key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:KID_HEX_CHARS]


class Sealer:
    """Seals claims into URL-safe JWE compact tokens and opens them again, checking every claim."""

    def __init__(self, keys: ServerKeys, issuer: str, clock: Callable[[], float] = time.time) -> None:
        self._issuer = issuer
        self._clock = clock
        self._rings: dict[TokenType, dict[str, OctKey]] = {}
        self._current: dict[TokenType, tuple[str, OctKey]] = {}
        for typ in TokenType:
            ring = keys.derive(f"oauth-token:{typ}")
            self._current[typ] = (_key_id(ring[0]), OctKey.import_key(ring[0]))
            self._rings[typ] = {_key_id(raw): OctKey.import_key(raw) for raw in ring}
        self._kid_types = {kid: typ for typ, ring in self._rings.items() for kid in ring}
        # token -> its claims, for tokens that decrypted and parsed; oldest first, bounded.
        self._opened: dict[str, Claims] = {}

    def new_claims(
        self,
        typ: TokenType,
        *,
        aud: str,
        sub: str,
        cid: str,
        scope: tuple[str, ...],
        key: str,
        lifetime: float,
        **extra: Unpack[ExtraClaims],
    ) -> Claims:
        """Claims issued now by this server, expiring `lifetime` seconds from now, with a fresh `jti`."""
        if lifetime <= 0:
            raise ValueError("a token lifetime must be positive")
        now = self._clock()
        return Claims(
            typ=typ,
            iss=self._issuer,
            aud=aud,
            sub=sub,
            cid=cid,
            scope=scope,
            key=key,
            iat=int(now),
            exp=int(now + lifetime),
            jti=secrets.token_urlsafe(JTI_BYTES),
            **extra,
        )

    def seal(self, claims: Claims) -> str:
        """The claims encrypted under the current key of their type's ring.

        Raises ValueError if the token would exceed MAX_TOKEN_CHARS, which `open` refuses: bound
        client-supplied claims (`state`, `redirect_uri`) before sealing them.
        """
        kid, key = self._current[claims.typ]
        # No "zip": compressing secrets beside attacker-chosen text leaks them through the length.
        header = {"alg": _ALG, "enc": _ENC, "kid": kid}
        token = jwe.encrypt_compact(
            header, claims.model_dump_json(exclude_none=True), key, registry=_REGISTRY
        )
        if len(token) > MAX_TOKEN_CHARS:
            raise ValueError(f"a sealed token must be at most {MAX_TOKEN_CHARS} characters")
        return token

    def open(self, token: str, typ: TokenType, audience: str | None = None) -> Claims:
        """The claims of a token of type `typ` sealed by this server, for `audience` when given.

        Raises InvalidToken whose reason is the first check that failed, in this order: size and
        structure ("malformed"), decryption ("undecryptable", or "wrong-type" when the key belongs to
        another type's ring), claims ("malformed"), "wrong-type", "wrong-issuer", "wrong-audience",
        "expired", "not-yet-valid".

        An access token opened before is not decrypted again: its claims are remembered (the token's
        exact text is the key, so nothing unverified is ever looked up), and the claim checks run every
        time.
        """
        claims = self._opened.get(token)
        if claims is None:
            claims = self._decrypt(token, typ)
            # Codes and refresh tokens are spent once and a consent request is opened once or twice;
            # remembering them would only push out the access tokens that come back on every request.
            if typ is TokenType.ACCESS:
                if len(self._opened) >= OPENED_CACHE_SIZE:
                    del self._opened[next(iter(self._opened))]
                self._opened[token] = claims
        self._check(claims, typ, audience)
        return claims

    def _decrypt(self, token: str, typ: TokenType) -> Claims:
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("malformed")
        key = self._key_for(_parse_kid(token), typ)
        try:
            plaintext = jwe.decrypt_compact(token, key, registry=_REGISTRY).plaintext
        except (JoseError, ValueError) as exc:
            raise InvalidToken("undecryptable") from exc
        try:
            return Claims.model_validate_json(plaintext or b"")
        except ValidationError:
            # `from None`: a validation error quotes the claim values, the API key among them.
            raise InvalidToken("malformed") from None

    def _key_for(self, kid: str, typ: TokenType) -> OctKey:
        key = self._rings[typ].get(kid)
        if key is not None:
            return key
        # Per-type rings: a token of another type is refused here, before any decryption.
        if kid in self._kid_types:
            raise InvalidToken("wrong-type")
        raise InvalidToken("undecryptable")

    def _check(self, claims: Claims, typ: TokenType, audience: str | None) -> None:
        now = self._clock()
        if claims.typ != typ:
            raise InvalidToken("wrong-type")
        if claims.iss != self._issuer:
            raise InvalidToken("wrong-issuer")
        if audience is not None and claims.aud != audience:
            raise InvalidToken("wrong-audience")
        if now >= claims.exp:
            raise InvalidToken("expired")
        if claims.iat > now + IAT_SKEW_SECONDS:
            raise InvalidToken("not-yet-valid")


def _parse_kid(token: str) -> str:
    """The `kid` of a structurally valid "dir"/"A256GCM" compact token; raises InvalidToken("malformed")."""
    match = _COMPACT.fullmatch(token)
    if match is None or len(match[1]) > _MAX_HEADER_CHARS:
        raise InvalidToken("malformed")
    try:
        header_json, iv, _, tag = [_decode_segment(segment) for segment in match.groups()]
        header = json.loads(header_json)
    except ValueError as exc:
        raise InvalidToken("malformed") from exc
    # Only the members we seal: joserfc raises TypeError, not JoseError, on headers like {"crit": 5}.
    if not isinstance(header, dict) or header.keys() != _HEADER_MEMBERS:
        raise InvalidToken("malformed")
    kid = header["kid"]
    if header["alg"] != _ALG or header["enc"] != _ENC or not isinstance(kid, str):
        raise InvalidToken("malformed")
    if len(iv) != _IV_BYTES or len(tag) != _TAG_BYTES:
        raise InvalidToken("malformed")
    return kid


def _decode_segment(segment: str) -> bytes:
    """Decode base64url without padding, accepting only the canonical encoding.

    Decoders ignore the unused low bits of the last character, so several texts decode to the same
    bytes; refusing all but one keeps every token byte-for-byte unforgeable. Raises ValueError.
    """
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as exc:
        raise ValueError("invalid base64url") from exc
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != segment:
        raise ValueError("non-canonical base64url")
    return data
