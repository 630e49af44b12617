"""RFC 6749 §2.3.1 (client password authentication) at the token and revocation endpoints.

A confidential client proves itself with its secret, in an HTTP Basic header or in the form (one
method per request, §2.3); a public client (PKCE, no secret) sends only its `client_id`. Failure is
`invalid_client` with status 401, which is also what makes Claude register again (RFC 6749 §5.2).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from oauth.clients import ClientDirectory
from oauth.errors import InvalidClient, InvalidRequest
from oauth.registration import RegisteredClient


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Basic credentials are malformed", _basic_challenge()) from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise InvalidClient("the Basic credentials are malformed", _basic_challenge())
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


def _basic_challenge() -> dict[str, str]:
    return {"www-authenticate": 'Basic realm="token"'}


async def authenticate_client(
    form: Mapping[str, str], headers: Mapping[str, str], clients: ClientDirectory
) -> RegisteredClient:
    """The client making this request, authenticated as its registration requires."""
    basic = _basic_credentials(headers.get("authorization"))
    form_secret = form.get("client_secret")
    if basic is not None and form_secret is not None:
        raise InvalidRequest("use one client authentication method, not two")
    client_id = basic[0] if basic is not None else form.get("client_id", "")
    if basic is not None and form.get("client_id") not in (None, client_id):
        raise InvalidRequest("client_id in the form differs from the Basic credentials")
    challenge = _basic_challenge() if basic is not None else None
    if not client_id:
        raise InvalidClient("client authentication is required", challenge)
    try:
        client = await clients.find(client_id)
    except InvalidClient as exc:
        raise InvalidClient(exc.description, challenge) from None
    secret = basic[1] if basic is not None else form_secret
    if client.is_confidential and (
        secret is None or not clients.registrar.secret_matches(client.client_id, secret)
    ):
        raise InvalidClient("client authentication failed", challenge)
    return client
