"""The MCP protocol revisions and the rules that differ between them (`gateway/protocol/versions.py`)."""

from __future__ import annotations

import pytest

from gateway.protocol.versions import allows_batches, is_modern, negotiate_revision


@pytest.mark.parametrize(
    ("requested", "answered"),
    [
        pytest.param("2024-11-05", "2024-11-05", id="2024-11-05"),
        pytest.param("2025-03-26", "2025-03-26", id="2025-03-26"),
        pytest.param("2025-06-18", "2025-06-18", id="2025-06-18"),
        pytest.param("2025-11-25", "2025-11-25", id="2025-11-25"),
        pytest.param("2026-07-28", "2025-11-25", id="modern-is-not-a-handshake-revision"),
        pytest.param("2099-01-01", "2025-11-25", id="future"),
        pytest.param("2024-10-07", "2025-11-25", id="past"),
        pytest.param("", "2025-11-25", id="empty"),
    ],
)
def test_negotiate_revision(requested: str, answered: str) -> None:
    """initialize echoes a handshake revision we speak, and otherwise answers our newest one."""
    assert negotiate_revision(requested) == answered


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        pytest.param("2024-11-05", True, id="2024-11-05"),
        pytest.param("2025-03-26", True, id="2025-03-26"),
        pytest.param("2025-06-18", False, id="2025-06-18"),
        pytest.param("2025-11-25", False, id="2025-11-25"),
        pytest.param("2026-07-28", False, id="2026-07-28"),
        pytest.param("2099-01-01", False, id="unknown"),
    ],
)
def test_allows_batches(revision: str, expected: bool) -> None:
    """JSON-RPC batches are legal only before 2025-06-18 removed them."""
    assert allows_batches(revision) is expected


@pytest.mark.parametrize(
    ("revision", "expected"),
    [
        pytest.param("2026-07-28", True, id="2026-07-28"),
        pytest.param("2025-11-25", False, id="2025-11-25"),
        pytest.param("2024-11-05", False, id="2024-11-05"),
        pytest.param("2099-01-01", False, id="unknown"),
    ],
)
def test_is_modern(revision: str, expected: bool) -> None:
    """Only 2026-07-28 uses the stateless per-request envelope."""
    assert is_modern(revision) is expected
