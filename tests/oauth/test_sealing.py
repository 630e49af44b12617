"""Sealed tokens: JWE compact, "dir" + "A256GCM", one key ring per token type (`oauth/sealing.py`)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from joserfc import jwe
from joserfc.jwk import OctKey
from pydantic import ValidationError

from gateway.edge.auth import MAX_API_KEY_CHARS
from gateway.keys import ServerKeys
from oauth.authorization import MAX_STATE_CHARS
from oauth.errors import InvalidToken, OAuthError
from oauth.registration import MAX_CLIENT_ID_CHARS, MAX_URI_CHARS
from oauth.sealing import JTI_BYTES, MAX_TOKEN_CHARS, Claims, Sealer, TokenType
from oauth.server import CLIENT_NAME_CHARS
from tools.grant import MAX_GRANT_INBOXES, Grant
from tools.scopes import SCOPES

KEY_A = b"\x01" * 32
KEY_B = b"\x02" * 32
ISSUER = "https://gateway.test"
AUDIENCE = "https://gateway.test/mcp"
API_KEY = "op-secret-api-key-0123456789"
NOW = 1_750_000_000.0
LIFETIME = 600
REASONS = {
    "malformed",
    "undecryptable",
    "wrong-type",
    "wrong-issuer",
    "wrong-audience",
    "expired",
    "not-yet-valid",
}
BASE64URL = string.ascii_letters + string.digits + "-_"
EXTRA_CLAIMS: dict[TokenType, dict[str, Any]] = {
    TokenType.CODE: {"redirect_uri": "https://client.test/cb", "code_challenge": "c" * 43},
    TokenType.ACCESS: {"fam": "family-1"},
    TokenType.REFRESH: {"fam": "family-1"},
    TokenType.CONSENT: {
        "redirect_uri": "https://client.test/cb",
        "code_challenge": "c" * 43,
        "state": "client-state",
    },
}


@dataclass
class FakeClock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


def make_sealer(*ring: bytes, clock: FakeClock | None = None, issuer: str = ISSUER) -> Sealer:
    return Sealer(ServerKeys(ring or (KEY_A,)), issuer, clock or FakeClock())


def make_claims(sealer: Sealer, typ: TokenType, lifetime: float = LIFETIME) -> Claims:
    is_consent = typ is TokenType.CONSENT
    return sealer.new_claims(
        typ,
        aud=AUDIENCE,
        sub="" if is_consent else "fp-0123456789abcdef",
        cid="client-1",
        scope=("messages", "contacts"),
        key="" if is_consent else API_KEY,
        lifetime=lifetime,
        **EXTRA_CLAIMS[typ],
    )


def seal(typ: TokenType = TokenType.ACCESS, *ring: bytes, clock: FakeClock | None = None) -> str:
    sealer = make_sealer(*ring, clock=clock)
    return sealer.seal(make_claims(sealer, typ))


def reason_for(
    token: str,
    typ: TokenType = TokenType.ACCESS,
    *ring: bytes,
    clock: FakeClock | None = None,
    audience: str | None = None,
) -> str:
    """The reason `open` refuses `token` with; fails the test if it opens or raises anything else."""
    with pytest.raises(InvalidToken) as caught:
        make_sealer(*ring, clock=clock).open(token, typ, audience)
    return caught.value.reason


def kid_of(raw: bytes, typ: TokenType) -> str:
    return hashlib.sha256(ServerKeys((raw,)).derive(f"oauth-token:{typ}")[0]).hexdigest()[:8]


def encrypt_raw(payload: bytes, raw: bytes, key_typ: TokenType, header: dict[str, Any] | None = None) -> str:
    """A token made without `Sealer`: `payload` under the `key_typ` key derived from `raw`."""
    key = OctKey.import_key(ServerKeys((raw,)).derive(f"oauth-token:{key_typ}")[0])
    protected = header or {"alg": "dir", "enc": "A256GCM", "kid": kid_of(raw, key_typ)}
    return jwe.encrypt_compact(protected, payload, key, algorithms=["dir", "A256GCM"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def replace_header(token: str, header: Any) -> str:
    return ".".join([b64(json.dumps(header).encode()), *token.split(".")[1:]])


VALID_TOKEN = seal()
SEALER = make_sealer()


class TestRoundTrip:
    @pytest.mark.parametrize("typ", [pytest.param(typ, id=typ.value) for typ in TokenType])
    def test_open_returns_the_sealed_claims(self, typ: TokenType) -> None:
        """Every token type opens to exactly the claims it was sealed with."""
        sealer = make_sealer()
        claims = make_claims(sealer, typ)
        assert sealer.open(sealer.seal(claims), typ, audience=AUDIENCE) == claims

    def test_new_claims_fill_issuer_issued_at_and_expiry(self) -> None:
        claims = make_claims(make_sealer(clock=FakeClock(NOW + 0.75)), TokenType.ACCESS)
        assert (claims.iss, claims.iat, claims.exp) == (ISSUER, int(NOW), int(NOW) + LIFETIME)

    def test_new_claims_get_a_fresh_jti_each_time(self) -> None:
        sealer = make_sealer()
        jtis = {make_claims(sealer, TokenType.ACCESS).jti for _ in range(3)}
        assert len(jtis) == 3

    def test_new_claims_refuse_a_non_positive_lifetime(self) -> None:
        with pytest.raises(ValueError, match="lifetime must be positive"):
            make_claims(make_sealer(), TokenType.ACCESS, lifetime=0)

    def test_sealing_the_same_claims_twice_gives_different_tokens(self) -> None:
        """Each seal draws a fresh IV, so equal claims never produce equal tokens."""
        sealer = make_sealer()
        claims = make_claims(sealer, TokenType.ACCESS)
        assert sealer.seal(claims) != sealer.seal(claims)

    def test_token_is_url_safe_ascii(self) -> None:
        assert re.fullmatch(r"[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", VALID_TOKEN)

    def test_protected_header_names_the_key_of_the_token_type(self) -> None:
        header = json.loads(base64.urlsafe_b64decode(VALID_TOKEN.split(".")[0] + "=="))
        assert header == {"alg": "dir", "enc": "A256GCM", "kid": kid_of(KEY_A, TokenType.ACCESS)}

    def test_claims_that_would_make_a_too_long_token_are_refused(self) -> None:
        sealer = make_sealer()
        claims = make_claims(sealer, TokenType.CONSENT).model_copy(update={"state": "s" * MAX_TOKEN_CHARS})
        with pytest.raises(ValueError, match=f"at most {MAX_TOKEN_CHARS} characters"):
            sealer.seal(claims)


class TestSizes:
    @pytest.mark.parametrize("typ", list(TokenType))
    def test_the_largest_values_the_endpoints_accept_fit_in_every_token(self, typ: TokenType) -> None:
        """Review #4: accepted sizes once overflowed the cap and answered 500; JSON escapes count double.

        The consent request carries the state, and on its second step the key too; a code carries
        the key, the redirect URI and the grant; every token after it the grant and the client's name.
        """
        issuer = "https://" + "g" * 180 + ".example.test"
        sealer = Sealer(ServerKeys((KEY_A,)), issuer, FakeClock())
        consent = typ is TokenType.CONSENT
        claims = sealer.new_claims(
            typ,
            aud=f"{issuer}/mcp",
            sub="f" * 16,
            cid="c" * MAX_CLIENT_ID_CHARS,
            # Room for a catalogue that grows: every scope, plus ten more of twenty characters.
            scope=(*SCOPES, *(f"future-scope-{n:02}:read" for n in range(10))),
            key='"' * MAX_API_KEY_CHARS,
            lifetime=LIFETIME,
            fam=secrets.token_urlsafe(JTI_BYTES),
            redirect_uri="u" * MAX_URI_CHARS,
            code_challenge="x" * 43,
            state='"' * MAX_STATE_CHARS if consent else None,
            grd=Grant(inboxes=tuple(f"PN{n:02}" + "x" * 28 for n in range(MAX_GRANT_INBOXES))),
            cnm='"' * CLIENT_NAME_CHARS,
        )
        assert sealer.open(sealer.seal(claims), typ) == claims


class TestClaims:
    def test_unknown_claims_are_rejected(self) -> None:
        values = make_claims(make_sealer(), TokenType.ACCESS).model_dump()
        with pytest.raises(ValidationError):
            Claims.model_validate({**values, "extra": "x"})

    def test_claims_are_immutable(self) -> None:
        claims = make_claims(make_sealer(), TokenType.ACCESS)
        with pytest.raises(ValidationError):
            claims.key = "other"  # type: ignore[misc]

    def test_api_key_is_not_in_repr(self) -> None:
        assert API_KEY not in repr(make_claims(make_sealer(), TokenType.ACCESS))

    def test_api_key_is_not_in_str(self) -> None:
        assert API_KEY not in str(make_claims(make_sealer(), TokenType.ACCESS))

    def test_api_key_is_not_in_the_token_text_or_its_decoded_segments(self) -> None:
        segments = [base64.urlsafe_b64decode(part + "==") for part in VALID_TOKEN.split(".")]
        assert API_KEY not in VALID_TOKEN
        assert all(API_KEY.encode() not in segment for segment in segments)


class TestTypeConfusion:
    def test_code_opened_as_access_is_wrong_type(self) -> None:
        assert reason_for(seal(TokenType.CODE), TokenType.ACCESS) == "wrong-type"

    @pytest.mark.parametrize(
        ("sealed", "opened"),
        [
            pytest.param(sealed, opened, id=f"{sealed.value}-as-{opened.value}")
            for sealed, opened in itertools.permutations(TokenType, 2)
        ],
    )
    def test_no_type_opens_as_another(self, sealed: TokenType, opened: TokenType) -> None:
        assert reason_for(seal(sealed), opened) == "wrong-type"

    def test_access_claims_under_the_code_key_fail_at_decryption(self) -> None:
        """The per-type key refuses a token even when its (forged) typ claim names the right type."""
        claims = make_claims(make_sealer(), TokenType.ACCESS)
        token = encrypt_raw(claims.model_dump_json().encode(), KEY_A, TokenType.CODE)
        assert reason_for(token, TokenType.ACCESS) == "wrong-type"

    def test_code_claims_under_the_access_key_fail_at_the_typ_check(self) -> None:
        """The typ claim is checked too, as a second line of defence."""
        claims = make_claims(make_sealer(), TokenType.CODE)
        token = encrypt_raw(claims.model_dump_json().encode(), KEY_A, TokenType.ACCESS)
        assert reason_for(token, TokenType.ACCESS) == "wrong-type"

    def test_authentic_payload_that_is_not_claims_is_malformed(self) -> None:
        token = encrypt_raw(b'{"typ": "access"}', KEY_A, TokenType.ACCESS)
        assert reason_for(token, TokenType.ACCESS) == "malformed"


class TestClaimChecks:
    def test_token_from_another_issuer_is_wrong_issuer(self) -> None:
        other = make_sealer(issuer="https://other.test")
        token = other.seal(make_claims(other, TokenType.ACCESS))
        assert reason_for(token) == "wrong-issuer"

    def test_token_for_another_resource_is_wrong_audience(self) -> None:
        assert reason_for(VALID_TOKEN, audience="https://other.test/mcp") == "wrong-audience"

    def test_audience_is_not_checked_when_not_given(self) -> None:
        assert make_sealer().open(VALID_TOKEN, TokenType.ACCESS).aud == AUDIENCE

    def test_token_at_its_expiry_is_expired(self) -> None:
        assert reason_for(VALID_TOKEN, clock=FakeClock(NOW + LIFETIME)) == "expired"

    def test_token_one_second_before_expiry_opens(self) -> None:
        sealer = make_sealer(clock=FakeClock(NOW + LIFETIME - 1))
        assert sealer.open(VALID_TOKEN, TokenType.ACCESS).exp == int(NOW) + LIFETIME

    def test_token_issued_more_than_a_minute_ahead_is_not_yet_valid(self) -> None:
        token = seal(clock=FakeClock(NOW + 61))
        assert reason_for(token, clock=FakeClock(NOW)) == "not-yet-valid"

    def test_token_issued_a_minute_ahead_opens(self) -> None:
        token = seal(clock=FakeClock(NOW + 60))
        assert make_sealer(clock=FakeClock(NOW)).open(token, TokenType.ACCESS).iat == int(NOW) + 60

    def test_message_is_the_reason_alone(self) -> None:
        """Neither the token nor any claim value reaches the exception message."""
        with pytest.raises(InvalidToken) as caught:
            make_sealer(clock=FakeClock(NOW + LIFETIME)).open(VALID_TOKEN, TokenType.ACCESS)
        assert (str(caught.value), caught.value.args) == ("expired", ("expired",))

    def test_invalid_token_is_an_oauth_error(self) -> None:
        assert issubclass(InvalidToken, OAuthError)


class TestOpenedTokens:
    """An access token opened once is remembered, so it is not decrypted again; every check still runs."""

    def test_a_remembered_token_is_refused_once_it_expires(self) -> None:
        clock = FakeClock()
        sealer = make_sealer(clock=clock)
        token = sealer.seal(make_claims(sealer, TokenType.ACCESS))
        assert sealer.open(token, TokenType.ACCESS).exp == int(NOW) + LIFETIME
        clock.now = NOW + LIFETIME
        with pytest.raises(InvalidToken, match="expired"):
            sealer.open(token, TokenType.ACCESS)

    def test_a_remembered_token_is_still_checked_for_type_and_audience(self) -> None:
        sealer = make_sealer()
        token = sealer.seal(make_claims(sealer, TokenType.ACCESS))
        sealer.open(token, TokenType.ACCESS, AUDIENCE)
        assert list(sealer._opened) == [token]
        with pytest.raises(InvalidToken, match="wrong-type"):
            sealer.open(token, TokenType.CODE)
        with pytest.raises(InvalidToken, match="wrong-audience"):
            sealer.open(token, TokenType.ACCESS, "https://elsewhere.test/mcp")

    @pytest.mark.parametrize("typ", [TokenType.CODE, TokenType.REFRESH, TokenType.CONSENT])
    def test_tokens_opened_once_or_twice_are_not_remembered(self, typ: TokenType) -> None:
        """Codes, refresh tokens and consent requests would only push access tokens out of the cache."""
        sealer = make_sealer()
        token = sealer.seal(make_claims(sealer, typ))
        assert sealer.open(token, typ, AUDIENCE).typ is typ
        assert sealer._opened == {}

    def test_a_token_that_failed_to_open_is_not_remembered(self) -> None:
        sealer = make_sealer()
        forged = VALID_TOKEN[:-2] + ("AA" if not VALID_TOKEN.endswith("AA") else "BA")
        for _ in range(2):
            with pytest.raises(InvalidToken):
                sealer.open(forged, TokenType.ACCESS)

    def test_remembering_is_bounded(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr("oauth.sealing.OPENED_CACHE_SIZE", 3)
        sealer = make_sealer()
        tokens = [sealer.seal(make_claims(sealer, TokenType.ACCESS)) for _ in range(5)]
        for token in tokens:
            sealer.open(token, TokenType.ACCESS)
        assert len(sealer._opened) == 3
        assert list(sealer._opened) == tokens[2:]
        # An evicted token still opens: it is decrypted again.
        assert sealer.open(tokens[0], TokenType.ACCESS).jti


class TestKeyRotation:
    def test_token_sealed_under_an_old_key_still_opens(self) -> None:
        token = seal(TokenType.ACCESS, KEY_A)
        assert make_sealer(KEY_B, KEY_A).open(token, TokenType.ACCESS).key == API_KEY

    def test_new_tokens_are_sealed_with_the_current_key(self) -> None:
        token = seal(TokenType.ACCESS, KEY_B, KEY_A)
        assert reason_for(token, TokenType.ACCESS, KEY_A) == "undecryptable"

    def test_token_is_undecryptable_once_its_key_leaves_the_ring(self) -> None:
        assert reason_for(seal(TokenType.ACCESS, KEY_A), TokenType.ACCESS, KEY_B) == "undecryptable"

    @pytest.mark.parametrize("typ", [pytest.param(typ, id=typ.value) for typ in TokenType])
    def test_token_from_another_deployment_is_undecryptable(self, typ: TokenType) -> None:
        assert reason_for(seal(typ, bytes(range(32))), typ, bytes(range(32, 64))) == "undecryptable"

    def test_unknown_kid_is_undecryptable(self) -> None:
        token = replace_header(VALID_TOKEN, {"alg": "dir", "enc": "A256GCM", "kid": "00000000"})
        assert reason_for(token) == "undecryptable"

    def test_header_changed_under_a_known_kid_is_undecryptable(self) -> None:
        """The protected header is the AAD: re-encoding it breaks the authentication tag."""
        header = {"kid": kid_of(KEY_A, TokenType.ACCESS), "enc": "A256GCM", "alg": "dir"}
        assert reason_for(replace_header(VALID_TOKEN, header)) == "undecryptable"


def _segments(**changes: str) -> str:
    parts = dict(zip(("header", "key", "iv", "ciphertext", "tag"), VALID_TOKEN.split("."), strict=True))
    return ".".join({**parts, **changes}.values())


def _header(**members: Any) -> str:
    return b64(json.dumps(members).encode())


KID = kid_of(KEY_A, TokenType.ACCESS)


class TestMalformed:
    @pytest.mark.parametrize(
        "token",
        [
            pytest.param("", id="empty"),
            pytest.param("a.b.c", id="three-segments"),
            pytest.param(VALID_TOKEN + ".", id="six-segments"),
            pytest.param(VALID_TOKEN + "A" * MAX_TOKEN_CHARS, id="too-long"),
            pytest.param(VALID_TOKEN + "\n", id="trailing-newline"),
            pytest.param(_segments(key="AAAA"), id="encrypted-key-present"),
            pytest.param(_segments(iv="AAAA"), id="short-iv"),
            pytest.param(_segments(tag="AAAA"), id="short-tag"),
            pytest.param(_segments(header="e30"), id="empty-header"),
            pytest.param(_segments(header=b64(b"[]")), id="header-not-an-object"),
            pytest.param(_segments(header=b64(b"\xff")), id="header-not-utf8"),
            pytest.param(_segments(header=_header(alg="A256KW", enc="A256GCM", kid=KID)), id="other-alg"),
            pytest.param(_segments(header=_header(alg="dir", enc="A128GCM", kid=KID)), id="other-enc"),
            pytest.param(_segments(header=_header(alg="dir", enc="A256GCM")), id="no-kid"),
            pytest.param(_segments(header=_header(alg="dir", enc="A256GCM", kid=7)), id="kid-not-a-string"),
            pytest.param(
                _segments(header=_header(alg="dir", enc="A256GCM", kid=KID, crit=5)), id="crit-not-a-list"
            ),
            pytest.param(
                _segments(header=_header(alg="dir", enc="A256GCM", kid=KID, zip="DEF")), id="compressed"
            ),
            pytest.param(_segments(header=b64(b"[" * 300)), id="header-too-long"),
        ],
    )
    def test_structurally_invalid_token_is_malformed(self, token: str) -> None:
        assert reason_for(token) == "malformed"

    def test_non_canonical_base64_is_malformed(self) -> None:
        """A last character differing only in unused bits decodes to the same bytes but is refused."""
        tag = VALID_TOKEN.split(".")[-1]
        twin = tag[:-1] + BASE64URL[BASE64URL.index(tag[-1]) ^ 1]
        assert base64.urlsafe_b64decode(twin + "==") == base64.urlsafe_b64decode(tag + "==")
        assert reason_for(_segments(tag=twin)) == "malformed"


def assert_refused(token: str) -> None:
    """`open` raises InvalidToken, with one of the documented reasons, and nothing else."""
    with pytest.raises(InvalidToken) as caught:
        SEALER.open(token, TokenType.ACCESS)
    assert caught.value.reason in REASONS


class TestTampering:
    def test_every_single_character_substitution_is_refused(self) -> None:
        """Exhaustive over the base64url alphabet and ".", the characters a careless edit stays within."""
        for index, char in itertools.product(range(len(VALID_TOKEN)), BASE64URL + "."):
            if char != VALID_TOKEN[index]:
                assert_refused(VALID_TOKEN[:index] + char + VALID_TOKEN[index + 1 :])

    @given(st.integers(0, len(VALID_TOKEN) - 1), st.characters())
    def test_any_character_replaced_is_refused(self, index: int, char: str) -> None:
        assume(char != VALID_TOKEN[index])
        assert_refused(VALID_TOKEN[:index] + char + VALID_TOKEN[index + 1 :])

    @given(st.integers(0, len(VALID_TOKEN) - 1))
    def test_any_truncation_is_refused(self, length: int) -> None:
        assert_refused(VALID_TOKEN[:length])

    @given(st.text(min_size=1))
    @example("A")
    @example(".")
    def test_anything_appended_is_refused(self, suffix: str) -> None:
        assert_refused(VALID_TOKEN + suffix)

    @given(st.permutations(VALID_TOKEN.split(".")))
    def test_any_reordering_of_segments_is_refused(self, segments: list[str]) -> None:
        assume(".".join(segments) != VALID_TOKEN)
        assert_refused(".".join(segments))

    @given(st.lists(st.booleans(), min_size=5, max_size=5))
    def test_segments_spliced_from_another_token_are_refused(self, picks: list[bool]) -> None:
        """Segments of two valid tokens of the same type and key never combine into a third."""
        other = seal()
        spliced = ".".join(
            mine if keep else theirs
            for keep, mine, theirs in zip(picks, VALID_TOKEN.split("."), other.split("."), strict=True)
        )
        assume(spliced not in (VALID_TOKEN, other))
        assert_refused(spliced)

    @given(st.text())
    @example("")
    @example("....")
    def test_arbitrary_text_is_refused(self, text: str) -> None:
        assert_refused(text)

    @given(st.text(alphabet=BASE64URL + ".", max_size=300))
    def test_arbitrary_base64url_text_is_refused(self, text: str) -> None:
        assert_refused(text)

    @given(
        st.dictionaries(st.text(max_size=8), st.recursive(st.none() | st.integers() | st.text(), st.lists)),
        st.binary(max_size=20),
        st.binary(max_size=40),
        st.binary(max_size=20),
    )
    @example({"crit": 5}, b"\x00" * 12, b"x", b"\x00" * 16)
    @example({"crit": [[1]]}, b"\x00" * 12, b"x", b"\x00" * 16)
    def test_arbitrary_header_under_the_real_kid_is_refused(
        self, extra: dict[str, Any], iv: bytes, ciphertext: bytes, tag: bytes
    ) -> None:
        """Whatever the header adds beside a genuine kid, and whatever follows it, the token is refused."""
        header = {"alg": "dir", "enc": "A256GCM", "kid": KID, **extra}
        assert_refused(".".join([b64(json.dumps(header).encode()), "", b64(iv), b64(ciphertext), b64(tag)]))
