"""RFC 6749 §4.1.1-4.1.2 (authorization request and response), with RFC 7636, RFC 8707 and RFC 9207.

https://www.rfc-editor.org/rfc/rfc6749#section-4.1 . The order of checks is the security property:
the client and its redirect URI are checked first, by exact match, and while either is in doubt the
user sees an error page and is never redirected (§4.1.2.1, an open redirector otherwise). Only then
are the remaining errors addressed to the client's redirect URI, with `state` and `iss` (RFC 9207 §2);
since any stranger can register a client, the server shows them as a page whose link the user follows
rather than redirecting (RFC 9700 §4.11.1).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from oauth.clients import ClientDirectory
from oauth.endpoints import Endpoints
from oauth.errors import (
    InvalidClient,
    InvalidRequest,
    InvalidScope,
    InvalidTarget,
    ProtocolError,
    UnsupportedResponseType,
)
from oauth.pkce import is_valid_challenge
from oauth.registration import RegisteredClient
from tools.scopes import SCOPES

MAX_STATE_CHARS: Final = 512
# RFC 6749 Appendix A.5: state = 1*VSCHAR (%x20-7E).
_VSCHAR: Final = re.compile(r"[\x20-\x7e]+")
SINGLE_VALUED: Final = (
    "client_id",
    "redirect_uri",
    "response_type",
    "code_challenge",
    "code_challenge_method",
    "state",
    "scope",
    "resource",
)


class ClientPageError(Exception):
    """The client or redirect URI is in doubt: show the user an error page, never redirect."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RedirectError(Exception):
    """An error the client learns through its (verified) redirect URI."""

    def __init__(self, error: ProtocolError, redirect_uri: str, state: str | None) -> None:
        super().__init__(error.description)
        self.error = error
        self.redirect_uri = redirect_uri
        self.state = state


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated authorization request: everything the consent step and the code will carry."""

    client: RegisteredClient
    redirect_uri: str
    code_challenge: str
    state: str | None
    scope: tuple[str, ...]
    resource: str


def single_values(pairs: list[tuple[str, str]], names: tuple[str, ...]) -> dict[str, str]:
    """RFC 6749 §3.1: a parameter sent more than once is invalid; empty values count as absent."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in names:
            continue
        if name in values:
            raise InvalidRequest(f"{name} is repeated")
        if value:
            values[name] = value
    return values


async def validate(
    pairs: list[tuple[str, str]], clients: ClientDirectory, endpoints: Endpoints
) -> AuthorizationRequest:
    """The request, or ClientPageError (no redirect) / RedirectError (to the verified redirect URI)."""
    try:
        params = single_values(pairs, SINGLE_VALUED)
    except InvalidRequest as exc:
        raise ClientPageError(f"The request is malformed: {exc.description}.") from None
    try:
        client = await clients.find(params.get("client_id", ""))
    except InvalidClient as exc:
        raise ClientPageError(f"This application is not known to this server ({exc.description}).") from None
    redirect_uri = _redirect_uri(client, params.get("redirect_uri"))
    state = params.get("state")
    if state is not None and (len(state) > MAX_STATE_CHARS or not _VSCHAR.fullmatch(state)):
        raise ClientPageError(
            f"The request's state parameter must be at most {MAX_STATE_CHARS} visible ASCII characters."
        )

    def fail(error: ProtocolError) -> RedirectError:
        return RedirectError(error, redirect_uri, state)

    if params.get("response_type") != "code":
        raise fail(UnsupportedResponseType("response_type must be code"))
    challenge = params.get("code_challenge")
    # OAuth 2.1 §4.1.1 and RFC 7636 §4.3: PKCE is required, and only S256 is accepted.
    if challenge is None:
        raise fail(InvalidRequest("code_challenge is required (PKCE with S256)"))
    if params.get("code_challenge_method") != "S256":
        raise fail(InvalidRequest("code_challenge_method must be S256"))
    if not is_valid_challenge(challenge):
        raise fail(InvalidRequest("code_challenge is not an S256 challenge"))
    resource = params.get("resource")
    if resource is not None and not endpoints.accepts_resource(resource):
        raise fail(InvalidTarget("resource must be this server's MCP endpoint"))
    scope = _scope(params.get("scope"), client)
    if scope is None:
        raise fail(InvalidScope("scope names a scope this server does not offer"))
    return AuthorizationRequest(client, redirect_uri, challenge, state, scope, endpoints.resource)


def _redirect_uri(client: RegisteredClient, given: str | None) -> str:
    """RFC 6749 §3.1.2.3 / OAuth 2.1 §4.1.1: exact string match against a registered URI."""
    if given is None:
        if len(client.redirect_uris) == 1:
            return client.redirect_uris[0]
        raise ClientPageError("The request does not say where to return to (redirect_uri is missing).")
    if given not in client.redirect_uris:
        raise ClientPageError("The request's redirect_uri is not one this application registered.")
    return given


def _scope(requested: str | None, client: RegisteredClient) -> tuple[str, ...] | None:
    """The scopes asked for (all the client may have when none are named), or None if one is unknown."""
    allowed = client.scope or tuple(SCOPES)
    if requested is None:
        return allowed
    names = tuple(dict.fromkeys(requested.split()))
    if not names or not set(names) <= set(allowed):
        return None
    return names


def redirect_location(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """`redirect_uri` with `params` added to its query (RFC 6749 §4.1.2: keep the existing query)."""
    parts = urlsplit(redirect_uri)
    extra = urlencode({name: value for name, value in params.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
