"""The auth gate as the transports see it: credentials in, a principal out, or a refusal.

The app hands the transports `gateway.edge.auth.Authenticator`; they name only this interface, so the
transports never import the edge above them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from gateway.errors import InsufficientScope
from gateway.protocol.principal import Principal


class Gate(Protocol):
    """Resolves a request's headers to a principal (raising `Unauthorized`), admits it from its
    address, and words a 403."""

    async def authenticate(self, headers: Mapping[str, str], resource_path: str) -> Principal:
        """The caller's principal; `resource_path` names the resource for the 401 challenge."""
        ...

    async def admit(self, principal: Principal, client_ip: str) -> None:
        """Let the caller's request through, or refuse it (429) for its address's failed key checks."""
        ...

    def insufficient_scope(self, resource_path: str, scope: str) -> InsufficientScope:
        """The 403 naming the scope the caller's token lacks."""
        ...
