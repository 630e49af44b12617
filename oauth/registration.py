"""RFC 7591 (dynamic client registration), https://www.rfc-editor.org/rfc/rfc7591.

Registration is stateless: the `client_id` is the accepted metadata itself, signed with a key
derived from `SECRET_KEYS`, so a registration survives restarts and is valid on every machine with
nothing stored. A confidential client's secret is derived from its id (an HMAC), never stored, and
compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.keys import ServerKeys
from oauth.errors import InvalidClient, InvalidClientMetadata, InvalidRedirectURI
from oauth.metadata import GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS
from oauth.uris import has_uri_syntax, is_valid_host
from tools.scopes import SCOPES

CLIENT_PURPOSE: Final = "oauth-client-id"
SECRET_PURPOSE: Final = "oauth-client-secret"
MAX_REDIRECT_URIS: Final = 10
# The limits below, MAX_STATE_CHARS and MAX_API_KEY_CHARS fit together in a sealed token (review #4).
MAX_URI_CHARS: Final = 512
MAX_NAME_CHARS: Final = 200
# The client_id travels in every authorization URL, so the signed metadata it carries is bounded.
MAX_CLIENT_ID_CHARS: Final = 1024
LOOPBACK_HOSTS: Final = frozenset({"localhost"})

AuthMethod = Literal["none", "client_secret_post", "client_secret_basic"]


class RegisteredClient(BaseModel):
    """A client this server knows: registered here, or described by its metadata document."""

    # Built when first used (the first registration or authorization), not at start-up.
    model_config = ConfigDict(frozen=True, defer_build=True)

    client_id: str
    redirect_uris: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod = "none"
    grant_types: tuple[str, ...] = ("authorization_code", "refresh_token")
    client_name: str | None = None
    scope: tuple[str, ...] | None = None
    client_id_issued_at: int = 0

    @property
    def is_confidential(self) -> bool:
        return self.token_endpoint_auth_method != "none"

    @property
    def display_name(self) -> str:
        return self.client_name or urlsplit(self.redirect_uris[0]).hostname or "An application"


def check_redirect_uri(uri: str) -> str:
    """An acceptable redirect URI: https, or http on a loopback host; absolute; no fragment, no userinfo;
    RFC 3986 characters only, and a host that is a DNS name or an IP address.

    OAuth 2.1 §2.3.1 and RFC 8252 §7.3: loopback redirects may be plain http; nothing else may.
    The host reaches the consent page's CSP `form-action`, so nothing else may stand in for one.
    """
    if len(uri) > MAX_URI_CHARS:
        raise InvalidRedirectURI(f"a redirect URI is longer than {MAX_URI_CHARS} characters")
    if not has_uri_syntax(uri):
        raise InvalidRedirectURI(
            "a redirect URI may hold only RFC 3986 characters; write a non-ASCII host in its IDNA form (xn--)"
        )
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise InvalidRedirectURI("a redirect URI is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidRedirectURI("a redirect URI must be an absolute https URL (or http on a loopback host)")
    if parts.fragment or "#" in uri:
        raise InvalidRedirectURI("a redirect URI must not have a fragment")
    if parts.username is not None or parts.password is not None:
        raise InvalidRedirectURI("a redirect URI must not carry user information")
    if not is_valid_host(host):
        raise InvalidRedirectURI("the host of a redirect URI must be a DNS name or an IP address")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise InvalidRedirectURI("a plain http redirect URI is allowed only on a loopback host")
    return uri


def clean_client_name(name: str) -> str:
    """The name with its whitespace folded to single spaces; ValueError unless it is printable text.

    The consent page shows it beside the redirect host: bidi overrides, zero-width characters and line
    breaks could make it say something else (str.isprintable refuses format characters, Cf).
    """
    cleaned = " ".join(name.split())
    if not cleaned or not cleaned.isprintable():
        raise ValueError("client_name must be printable text")
    return cleaned


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RegistrationRequest(BaseModel):
    """RFC 7591 §2 client metadata; unknown members are ignored (§3.1)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    redirect_uris: list[str] = Field(min_length=1, max_length=MAX_REDIRECT_URIS)
    # RFC 7591 §2: the default token_endpoint_auth_method is client_secret_basic.
    token_endpoint_auth_method: str = "client_secret_basic"
    grant_types: list[str] = ["authorization_code"]
    response_types: list[str] = ["code"]
    client_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    scope: str | None = None
    application_type: Literal["web", "native"] | None = None

    @field_validator("client_name")
    @classmethod
    def _printable_name(cls, value: str | None) -> str | None:
        return None if value is None else clean_client_name(value)


class Registrar:
    """Registers clients statelessly and recognises the ids it issued."""

    def __init__(self, keys: ServerKeys, clock: Any = time.time) -> None:
        self._signer = URLSafeSerializer(list(reversed(keys.derive(CLIENT_PURPOSE))), salt="client")
        self._secret_keys = keys.derive(SECRET_PURPOSE)
        self._clock = clock

    def register(self, payload: Any) -> tuple[RegisteredClient, str | None]:
        """RFC 7591 §3.2.1: the registered client and its secret (None for a public client)."""
        request = _parse(payload)
        for uri in request.redirect_uris:
            check_redirect_uri(uri)
        if request.token_endpoint_auth_method not in TOKEN_ENDPOINT_AUTH_METHODS:
            raise InvalidClientMetadata(
                "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic"
            )
        unknown_grants = set(request.grant_types) - set(GRANT_TYPES)
        if unknown_grants or "authorization_code" not in request.grant_types:
            raise InvalidClientMetadata(
                "grant_types must include authorization_code and may add refresh_token"
            )
        if request.response_types != ["code"]:
            raise InvalidClientMetadata('response_types must be ["code"]')
        scope = tuple(request.scope.split()) if request.scope else None
        if scope is not None and not set(scope) <= set(SCOPES):
            raise InvalidClientMetadata("scope names a scope this server does not offer")
        fields = {
            "redirect_uris": tuple(request.redirect_uris),
            "token_endpoint_auth_method": request.token_endpoint_auth_method,
            "grant_types": tuple(dict.fromkeys([*request.grant_types, "refresh_token"])),
            "client_name": request.client_name,
            "scope": scope,
            "client_id_issued_at": int(self._clock()),
        }
        # A nonce keeps two registrations of the same metadata in the same second distinct clients.
        client_id = self._signer.dumps({**fields, "nonce": secrets.token_urlsafe(8)})
        if len(client_id) > MAX_CLIENT_ID_CHARS:
            raise InvalidClientMetadata(
                "too much metadata for one client: use fewer or shorter redirect URIs"
            )
        client = RegisteredClient.model_validate({"client_id": client_id, **fields})
        return client, (self.secret_for(client_id) if client.is_confidential else None)

    def lookup(self, client_id: str) -> RegisteredClient:
        """The client a `client_id` issued here stands for; InvalidClient when it is not one.

        Only the exact spelling issued is one: base64 decoding ignores the unused low bits of the
        signature's last character, which would let four strings name one client.
        """
        signature = client_id.rpartition(".")[2]
        try:
            if base64_encode(base64_decode(signature)).decode() != signature:
                raise BadData("not the signature's canonical spelling")
            fields = self._signer.loads(client_id)
            fields.pop("nonce")
            return RegisteredClient.model_validate({"client_id": client_id, **fields})
        except (BadData, ValidationError, TypeError, AttributeError, KeyError):
            raise InvalidClient("unknown client; register again") from None

    def secret_for(self, client_id: str) -> str:
        """The client's secret: an HMAC of its id under the current key."""
        return _secret(self._secret_keys[0], client_id)

    def secret_matches(self, client_id: str, secret: str) -> bool:
        """Constant-time comparison against the secret under every key of the ring (rotation)."""
        matches = [hmac.compare_digest(_secret(key, client_id), secret) for key in self._secret_keys]
        return any(matches)


def registration_response(client: RegisteredClient, secret: str | None) -> dict[str, Any]:
    """RFC 7591 §3.2.1: the client information response, echoing the accepted metadata."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": client.client_id_issued_at,
        "redirect_uris": list(client.redirect_uris),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "grant_types": list(client.grant_types),
        "response_types": ["code"],
    }
    if client.client_name is not None:
        body["client_name"] = client.client_name
    if client.scope is not None:
        body["scope"] = " ".join(client.scope)
    if secret is not None:
        body["client_secret"] = secret
        body["client_secret_expires_at"] = 0
    return body


def _parse(payload: Any) -> RegistrationRequest:
    if not isinstance(payload, dict):
        raise InvalidClientMetadata("the registration body must be a JSON object")
    try:
        return RegistrationRequest.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        if where.startswith("redirect_uris"):
            raise InvalidRedirectURI(f"redirect_uris: {first['msg']}") from None
        raise InvalidClientMetadata(f"{where}: {first['msg']}") from None


def _secret(key: bytes, client_id: str) -> str:
    digest = hmac.new(key, client_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
