"""Server keys: the secrets everything signed or fingerprinted derives from.

`SECRET_KEYS` holds one or more keys; the first is current, the rest still verify, so keys rotate
without ending every session. Each purpose gets its own subkey (HMAC-SHA256 of the purpose under
the key), so a signature made for one purpose never verifies for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Final

from gateway.settings import SECRET_KEY_BYTES, Settings

logger = logging.getLogger(__name__)

FINGERPRINT_HEX_CHARS: Final = 16


def generate_secret_key() -> str:
    """A fresh `SECRET_KEYS` entry: 32 random bytes, base64url without padding."""

    return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_KEY_BYTES)).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class ServerKeys:
    """The decoded key ring, current key first."""

    ring: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerKeys:
        """The configured keys, or (development only) one generated for this process, loudly."""
        ring = settings.secret_key_bytes()
        if ring:
            return cls(ring)
        logger.warning(
            "SECRET_KEYS is not set: using a key generated for this process; sessions and tokens "
            "will not survive a restart or work across machines"
        )
        return cls((secrets.token_bytes(SECRET_KEY_BYTES),))

    def derive(self, purpose: str) -> tuple[bytes, ...]:
        """The subkeys for `purpose`, current first."""
        return tuple(hmac.new(key, purpose.encode(), hashlib.sha256).digest() for key in self.ring)

    def fingerprint(self, credential: str) -> str:
        """A stable, non-reversible name for a credential, safe to log and to bind sessions to."""
        subkey = self.derive("principal-fingerprint")[0]
        digest = hmac.new(subkey, credential.encode(), hashlib.sha256).hexdigest()
        return digest[:FINGERPRINT_HEX_CHARS]
