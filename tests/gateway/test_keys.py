"""Server keys: generation, per-purpose subkeys and credential fingerprints (`gateway/keys.py`)."""

from __future__ import annotations

import base64
import logging
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.keys import ServerKeys, generate_secret_key
from gateway.settings import Settings

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
API_KEY = "op-test-key-0123456789"
FINGERPRINT = re.compile(r"[0-9a-f]{16}")


def test_generated_key_decodes_to_32_bytes() -> None:
    key = generate_secret_key()
    assert len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 32


def test_generated_key_has_no_padding() -> None:
    assert len(generate_secret_key()) == 43


def test_generated_keys_differ_each_call() -> None:
    assert generate_secret_key() != generate_secret_key()


def test_generated_key_is_a_valid_secret_keys_entry() -> None:
    key = generate_secret_key()
    settings = Settings(secret_keys=(key,))
    assert ServerKeys.from_settings(settings).ring == (base64.urlsafe_b64decode(key + "="),)


def test_from_settings_keeps_the_configured_ring_in_order() -> None:
    encoded = tuple(base64.urlsafe_b64encode(key).rstrip(b"=").decode() for key in (KEY_A, KEY_B))
    assert ServerKeys.from_settings(Settings(secret_keys=encoded)).ring == (KEY_A, KEY_B)


def test_from_settings_without_keys_generates_one_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.keys"):
        keys = ServerKeys.from_settings(Settings())
    assert [len(key) for key in keys.ring] == [32]
    assert [(record.name, record.levelno) for record in caplog.records] == [("gateway.keys", logging.WARNING)]


def test_fingerprint_is_stable() -> None:
    assert ServerKeys((KEY_A,)).fingerprint(API_KEY) == ServerKeys((KEY_A,)).fingerprint(API_KEY)


@given(st.text())
def test_fingerprint_is_16_lowercase_hex_characters(credential: str) -> None:
    assert FINGERPRINT.fullmatch(ServerKeys((KEY_A,)).fingerprint(credential))


def test_fingerprint_never_contains_the_credential() -> None:
    fingerprint = ServerKeys((KEY_A,)).fingerprint(API_KEY)
    assert API_KEY not in fingerprint


def test_fingerprint_differs_per_credential() -> None:
    keys = ServerKeys((KEY_A,))
    assert keys.fingerprint(API_KEY) != keys.fingerprint("op-other-key-9876543210")


def test_fingerprint_differs_per_key_ring() -> None:
    assert ServerKeys((KEY_A,)).fingerprint(API_KEY) != ServerKeys((KEY_B,)).fingerprint(API_KEY)


def test_fingerprint_depends_only_on_the_current_key() -> None:
    """Keeping an old key in the ring after rotation does not change fingerprints."""
    assert ServerKeys((KEY_A, KEY_B)).fingerprint(API_KEY) == ServerKeys((KEY_A,)).fingerprint(API_KEY)


def test_derive_gives_one_32_byte_subkey_per_ring_key() -> None:
    assert [len(subkey) for subkey in ServerKeys((KEY_A, KEY_B)).derive("session")] == [32, 32]


def test_derive_is_deterministic() -> None:
    assert ServerKeys((KEY_A,)).derive("session") == ServerKeys((KEY_A,)).derive("session")


def test_derive_gives_distinct_subkeys_per_purpose() -> None:
    keys = ServerKeys((KEY_A,))
    subkeys = {keys.derive(purpose)[0] for purpose in ("session", "token", "principal-fingerprint", "")}
    assert len(subkeys) == 4


def test_derive_never_returns_the_key_itself() -> None:
    assert ServerKeys((KEY_A,)).derive("session")[0] != KEY_A


def test_derive_keeps_the_ring_order() -> None:
    rotated = ServerKeys((KEY_B, KEY_A)).derive("session")
    assert rotated == (ServerKeys((KEY_B,)).derive("session")[0], ServerKeys((KEY_A,)).derive("session")[0])
