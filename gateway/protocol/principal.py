"""Who is calling: what the auth gate resolves every MCP request to, and what the protocol core acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tools.grant import Grant

CredentialSource = Literal["bearer", "header", "environment"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the OpenPhone key they may use, its fingerprint (safe to log), and their scopes.

    `scopes` is None for a caller holding the key itself (header or environment): the key has no
    scopes of its own, so nothing narrower applies. An OAuth token carries what the user granted.
    `credential` names the credential itself rather than the key behind it (`bearer_credential`,
    `key_credential`): opaque and not secret, it binds legacy SSE sessions and scopes cancellation,
    so one credential for a key never reaches what another credential for the same key started.
    `grant` is what the caller may do with the key (inboxes, sending); `grant_id` names it where
    allowances and pending sends are kept: the sign-in (OAuth family) for a Bearer, the key's
    fingerprint for a caller holding the key. `client_name` is the client's registered name, for audit.
    """

    api_key: str = field(repr=False)
    fingerprint: str
    source: CredentialSource
    credential: str
    scopes: frozenset[str] | None = None
    grant: Grant = field(kw_only=True)
    grant_id: str = field(kw_only=True)
    client_name: str | None = field(default=None, kw_only=True)

    def may_use(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes
