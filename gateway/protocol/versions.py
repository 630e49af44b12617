"""The MCP protocol revisions this gateway speaks, and the rules that differ between them.

Revisions up to 2025-11-25 are reached through the `initialize` handshake; 2026-07-28 is the
stateless per-request envelope. The names are the official SDK's registry (`mcp_types.version`),
so the gateway and the SDK agree on what a revision is called; they are written here because
importing `mcp_types` costs more start-up than the whole protocol core, and
tests/gateway/test_mcp_types_agreement.py fails the build if the two registries ever differ.
"""

from __future__ import annotations

from typing import Final

HANDSHAKE_REVISIONS: Final[tuple[str, ...]] = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
MODERN_REVISIONS: Final[tuple[str, ...]] = ("2026-07-28",)
SUPPORTED_REVISIONS: Final[tuple[str, ...]] = (*HANDSHAKE_REVISIONS, *MODERN_REVISIONS)
NEWEST_HANDSHAKE_REVISION: Final[str] = HANDSHAKE_REVISIONS[-1]

# 2025-06-18 transports: a request without MCP-Protocol-Version SHOULD be taken as 2025-03-26.
UNHEADERED_REVISION: Final[str] = "2025-03-26"

# JSON-RPC batches were added in 2025-03-26 and removed in 2025-06-18; 2024-11-05 never forbade them.
_BATCHING_REVISIONS: Final[frozenset[str]] = frozenset({"2024-11-05", "2025-03-26"})


def negotiate_revision(requested: str) -> str:
    """The revision to answer an `initialize` with: the requested one if we speak it, else our newest.

    2024-11-05 lifecycle: "If the server supports the requested protocol version, it MUST respond
    with the same version. Otherwise, the server MUST respond with another protocol version it
    supports" (SHOULD be its latest).
    """
    return requested if requested in HANDSHAKE_REVISIONS else NEWEST_HANDSHAKE_REVISION


def is_modern(revision: str) -> bool:
    """Whether `revision` uses the stateless per-request envelope."""
    return revision in MODERN_REVISIONS


def allows_batches(revision: str) -> bool:
    """Whether a JSON-RPC batch (an array body) is legal in `revision`."""
    return revision in _BATCHING_REVISIONS
