"""The caller's address behind a proxy that names it in a header of its own (Fly's `Fly-Client-IP`).

uvicorn's proxy support reads `X-Forwarded-For` from the right and takes the first untrusted entry.
On Fly the rightmost entry is the app's own public address (https://fly.io/docs/networking/
request-headers/), so every caller would look alike to the per-IP rate limits and to the logs.
With `CLIENT_IP_HEADER` set, uvicorn's handling is off and this middleware takes the client address
from that header, and the scheme from `X-Forwarded-Proto`, only when the TCP peer is one of
`FORWARDED_ALLOW_IPS` (the proxy overwrites the header, so a client cannot choose it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# RFC 6177 / RFC 7421: an IPv6 end site gets at least a /64, so one client holds every address in it.
IPV6_CLIENT_PREFIX: Final = 64


class ClientAddress:
    """Pure ASGI middleware: trusted proxy headers rewrite `scope["client"]` and `scope["scheme"]`."""

    def __init__(self, app: ASGIApp, *, header: str, trusted: Sequence[str]) -> None:
        self._app = app
        self._header = header.lower().encode("latin-1")
        self._trust_all = "*" in trusted
        self._networks: list[IPNetwork] = [
            ipaddress.ip_network(entry, strict=False) for entry in trusted if entry != "*"
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = self._rewrite(scope)
        await self._app(scope, receive, send)

    def _rewrite(self, scope: Scope) -> Scope:
        peer = scope.get("client")
        if not peer or not self._is_trusted(peer[0]):
            return scope
        headers = dict(scope.get("headers") or [])
        updates: dict[str, object] = {}
        client = _address(headers.get(self._header))
        if client is not None:
            updates["client"] = (client, peer[1])
        proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
        if proto in ("http", "https"):
            updates["scheme"] = proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[proto]
        return {**scope, **updates} if updates else scope

    def _is_trusted(self, host: str) -> bool:
        if self._trust_all:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._networks)


def _address(value: bytes | None) -> str | None:
    """The header's value when it is exactly one IP address, else None."""
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value.decode("latin-1").strip()))
    except ValueError:
        return None


def rate_limit_key(client_ip: str) -> str:
    """The name a per-client limit counts under: an IPv4 address itself, an IPv6 address's /64
    (anything else, such as "unknown", as it is)."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)
