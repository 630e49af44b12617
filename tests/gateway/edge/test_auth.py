"""The auth gate: resolving request headers to a principal or a 401 challenge (`gateway/edge/auth.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.edge.auth import MAX_API_KEY_CHARS, Authenticator, key_credential
from gateway.errors import Unauthorized
from gateway.keys import ServerKeys
from gateway.protocol.principal import Principal
from gateway.settings import Settings
from tools.grant import LEGACY_GRANT, Grant, SendRule

pytestmark = pytest.mark.anyio

PORT = 8000
KEYS = ServerKeys((bytes(range(32)),))
API_KEY = "op-test-key-0123456789"
OTHER_API_KEY = "op-other-key-9876543210"
ENV_API_KEY = "op-operator-key-000"
TOKEN = "opaque-access-token"
METADATA = f"http://127.0.0.1:{PORT}/.well-known/oauth-protected-resource"
CHALLENGE = f'Bearer resource_metadata="{METADATA}/mcp"'
# The default SEND_POLICY: a caller holding the key asks a person before each send.
DIRECT_KEY_GRANT = Grant(send=SendRule.CONFIRM)
BAD_TOKEN_CHALLENGE = f'{CHALLENGE}, error="invalid_token"'
NO_CREDENTIAL = (
    "Authentication required: connect with OAuth, or send your OpenPhone API key in the "
    "x-openphone-api-key header."
)
OAUTH_PRINCIPAL = Principal(
    api_key=OTHER_API_KEY,
    fingerprint="fedcba9876543210",
    source="bearer",
    credential="bearer:0123456789abcdef",
    grant=LEGACY_GRANT,
    grant_id="family-0123",
)


class FakeVerifier:
    """A TokenVerifier that knows one token and records what it was asked."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def verify(self, token: str) -> Principal | None:
        self.seen.append(token)
        return OAUTH_PRINCIPAL if token == TOKEN else None


def authenticator(verifier: FakeVerifier | None = None, **settings: Any) -> Authenticator:
    return Authenticator(Settings(port=PORT, **settings), KEYS, verifier)


def with_env_key(verifier: FakeVerifier | None = None) -> Authenticator:
    return authenticator(verifier, allow_env_api_key=True, openphone_api_key=ENV_API_KEY)


def header_principal(api_key: str) -> Principal:
    fingerprint = KEYS.fingerprint(api_key)
    return Principal(
        api_key=api_key,
        fingerprint=fingerprint,
        source="header",
        credential=key_credential("header", fingerprint),
        grant=DIRECT_KEY_GRANT,
        grant_id=fingerprint,
    )


async def refusal(gate: Authenticator, headers: dict[str, str], resource_path: str = "/mcp") -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        await gate.authenticate(headers, resource_path)
    return caught.value


def as_wire(error: Unauthorized) -> tuple[int, str, dict[str, str]]:
    return error.status_code, error.message, error.headers


@pytest.mark.parametrize("name", ["x-openphone-api-key", "x-api-key"])
async def test_api_key_header_resolves_to_a_header_principal(name: str) -> None:
    assert await authenticator().authenticate({name: API_KEY}, "/mcp") == header_principal(API_KEY)


async def test_x_openphone_api_key_wins_over_x_api_key() -> None:
    headers = {"x-api-key": OTHER_API_KEY, "x-openphone-api-key": API_KEY}
    assert await authenticator().authenticate(headers, "/mcp") == header_principal(API_KEY)


async def test_api_key_header_is_stripped() -> None:
    assert await authenticator().authenticate({"x-api-key": f"  {API_KEY} "}, "/mcp") == header_principal(
        API_KEY
    )


async def test_longest_allowed_api_key_is_accepted() -> None:
    key = "k" * MAX_API_KEY_CHARS
    assert await authenticator().authenticate({"x-api-key": key}, "/mcp") == header_principal(key)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("k" * (MAX_API_KEY_CHARS + 1), id="oversized"),
        pytest.param("op-key\x00", id="nul"),
        pytest.param("op\x7fkey", id="delete"),
        pytest.param("op key\ttab", id="tab"),
        pytest.param("op-k\u00e9y", id="not-ascii"),
    ],
)
async def test_unusable_api_key_header_is_unauthorized(value: str) -> None:
    error = await refusal(authenticator(), {"x-api-key": value})
    assert as_wire(error) == (
        401,
        "The x-api-key header does not hold an API key.",
        {"www-authenticate": CHALLENGE},
    )


async def test_no_credential_is_unauthorized_with_a_plain_challenge() -> None:
    """RFC 6750 §3.1: without a token the challenge carries no error code."""
    error = await refusal(authenticator(), {})
    assert as_wire(error) == (401, NO_CREDENTIAL, {"www-authenticate": CHALLENGE})


async def test_challenge_names_the_resource_path() -> None:
    error = await refusal(authenticator(), {}, "/sse")
    assert error.headers == {"www-authenticate": f'Bearer resource_metadata="{METADATA}/sse"'}


async def test_challenge_puts_a_public_path_prefix_after_the_well_known_segment() -> None:
    """RFC 9728 §3.1: the well-known segment goes between the host and the resource's path."""
    error = await refusal(authenticator(public_url=f"http://127.0.0.1:{PORT}/openphone"), {})
    assert error.headers == {"www-authenticate": f'Bearer resource_metadata="{METADATA}/openphone/mcp"'}


async def test_challenge_uses_the_public_origin() -> None:
    error = await refusal(authenticator(public_url="https://mcp.example.test/"), {})
    assert error.headers == {
        "www-authenticate": (
            'Bearer resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"'
        )
    }


async def test_bearer_token_without_a_verifier_is_an_invalid_token() -> None:
    error = await refusal(authenticator(), {"authorization": f"Bearer {TOKEN}"})
    assert as_wire(error) == (
        401,
        "The access token is invalid or expired.",
        {"www-authenticate": BAD_TOKEN_CHALLENGE},
    )


async def test_bearer_token_the_verifier_rejects_is_an_invalid_token() -> None:
    error = await refusal(authenticator(FakeVerifier()), {"authorization": "Bearer forged"})
    assert as_wire(error) == (
        401,
        "The access token is invalid or expired.",
        {"www-authenticate": BAD_TOKEN_CHALLENGE},
    )


async def test_bearer_token_resolves_to_the_verifiers_principal() -> None:
    verifier = FakeVerifier()
    principal = await authenticator(verifier).authenticate({"authorization": f"Bearer  {TOKEN} "}, "/mcp")
    assert (principal, verifier.seen) == (OAUTH_PRINCIPAL, [TOKEN])


async def test_bearer_scheme_is_case_insensitive() -> None:
    assert await authenticator(FakeVerifier()).authenticate({"authorization": f"bearer {TOKEN}"}, "/mcp") == (
        OAUTH_PRINCIPAL
    )


async def test_bearer_token_wins_over_an_api_key_header() -> None:
    headers = {"authorization": f"Bearer {TOKEN}", "x-openphone-api-key": API_KEY}
    assert await authenticator(FakeVerifier()).authenticate(headers, "/mcp") == OAUTH_PRINCIPAL


async def test_a_bad_bearer_token_does_not_fall_back_to_an_api_key_header() -> None:
    headers = {"authorization": "Bearer forged", "x-openphone-api-key": API_KEY}
    error = await refusal(authenticator(FakeVerifier()), headers)
    assert error.headers == {"www-authenticate": BAD_TOKEN_CHALLENGE}


async def test_other_authorization_schemes_are_ignored() -> None:
    headers = {"authorization": "Basic dXNlcjpwYXNz", "x-openphone-api-key": API_KEY}
    assert await authenticator(FakeVerifier()).authenticate(headers, "/mcp") == header_principal(API_KEY)


async def test_env_key_is_used_with_the_opt_in_and_no_credential() -> None:
    principal = await with_env_key().authenticate({}, "/mcp")
    fingerprint = KEYS.fingerprint(ENV_API_KEY)
    assert principal == Principal(
        api_key=ENV_API_KEY,
        fingerprint=fingerprint,
        source="environment",
        credential=f"environment:{fingerprint}",
        grant=DIRECT_KEY_GRANT,
        grant_id=fingerprint,
    )


async def test_env_key_is_not_used_without_the_opt_in() -> None:
    error = await refusal(authenticator(openphone_api_key=ENV_API_KEY), {})
    assert as_wire(error) == (401, NO_CREDENTIAL, {"www-authenticate": CHALLENGE})


async def test_api_key_header_wins_over_the_env_key() -> None:
    assert await with_env_key().authenticate({"x-api-key": API_KEY}, "/mcp") == header_principal(API_KEY)


async def test_bearer_token_wins_over_the_env_key() -> None:
    assert await with_env_key(FakeVerifier()).authenticate({"authorization": f"Bearer {TOKEN}"}, "/mcp") == (
        OAUTH_PRINCIPAL
    )


async def test_an_unusable_api_key_header_does_not_fall_back_to_the_env_key() -> None:
    error = await refusal(with_env_key(), {"x-openphone-api-key": " "})
    assert error.message == "The x-openphone-api-key header does not hold an API key."


async def test_a_bad_bearer_token_does_not_fall_back_to_the_env_key() -> None:
    error = await refusal(with_env_key(FakeVerifier()), {"authorization": "Bearer forged"})
    assert error.headers == {"www-authenticate": BAD_TOKEN_CHALLENGE}


async def test_principal_repr_never_shows_the_api_key() -> None:
    principal = await authenticator().authenticate({"x-api-key": API_KEY}, "/mcp")
    fingerprint = KEYS.fingerprint(API_KEY)
    assert repr(principal) == (
        f"Principal(fingerprint='{fingerprint}', source='header', credential='header:{fingerprint}', "
        f"scopes=None, grant={DIRECT_KEY_GRANT!r}, grant_id='{fingerprint}', client_name=None)"
    )
