"""RFC 7636 (PKCE), https://www.rfc-editor.org/rfc/rfc7636: S256 only, as OAuth 2.1 §4.1.1 asks.

`plain` is refused: it protects nothing if the authorization request leaks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Final

# RFC 7636 §4.1: code_verifier = 43*128unreserved.
CODE_VERIFIER_PATTERN: Final = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
CODE_CHALLENGE_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")


def s256_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: the S256 code challenge of `verifier`."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_valid_challenge(challenge: str) -> bool:
    """Whether `challenge` has the shape of an S256 challenge."""
    return CODE_CHALLENGE_PATTERN.fullmatch(challenge) is not None


def verifier_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: the server recomputes the challenge from the verifier and compares, in constant time."""
    if not CODE_VERIFIER_PATTERN.fullmatch(verifier):
        return False
    return hmac.compare_digest(s256_challenge(verifier), challenge)
