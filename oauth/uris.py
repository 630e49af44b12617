"""RFC 3986 (URI generic syntax), https://www.rfc-editor.org/rfc/rfc3986: the URIs and hosts we accept.

Redirect URIs and client_id URLs are chosen by strangers and end up in headers (the consent page's
CSP), in pages and in outbound requests. Accepting only the ASCII syntax of RFC 3986 and a host that
is a DNS name or an IP literal keeps every one of those uses free of injection and encoding errors.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, TypeAlias

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 3986 §2: only unreserved, reserved and percent-encoded characters; no space, no non-ASCII.
_URI_CHARACTERS: Final = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_STRAY_PERCENT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 1123 §2.1 host names; internationalised names arrive in their IDNA (xn--) form.
_HOST_NAME: Final = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?")
_NUMERIC_LABEL: Final = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


def has_uri_syntax(value: str) -> bool:
    """Whether `value` uses only the characters of RFC 3986 §2, with every `%` starting an escape."""
    return _URI_CHARACTERS.fullmatch(value) is not None and _STRAY_PERCENT.search(value) is None


def literal_address(host: str) -> IPAddress | None:
    """The IP address `host` spells, or None when it is a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_valid_host(host: str) -> bool:
    """A DNS name or an IP literal (no IPv6 zone); never a wildcard, a separator or a legacy IPv4 form."""
    address = literal_address(host)
    if address is not None:
        return not (isinstance(address, ipaddress.IPv6Address) and address.scope_id)
    # A numeric last label is a legacy IPv4 form (127.1, 0x7f.1, 2130706433): refuse, don't guess.
    last_label = host.rstrip(".").rpartition(".")[2]
    return _HOST_NAME.fullmatch(host) is not None and _NUMERIC_LABEL.fullmatch(last_label) is None
