"""The MCP names and codes the gateway writes itself are the official SDK's (`mcp_types`).

The runtime does not import `mcp_types` (its package import costs more start-up than the protocol
core; test_start_imports.py), so these tests are what keeps the two in step: a new SDK release that
renames or renumbers anything fails here, not in a client.
"""

from __future__ import annotations

import mcp_types
import pytest
from mcp_types import jsonrpc, version

from gateway.errors import (
    HeaderMismatch,
    InternalError,
    InvalidParams,
    InvalidRequest,
    JSONRPCError,
    MethodNotFound,
    ParseError,
    UnsupportedProtocolVersion,
)
from gateway.protocol import core, envelope, versions


@pytest.mark.parametrize(
    ("error", "code"),
    [
        pytest.param(JSONRPCError, jsonrpc.INTERNAL_ERROR, id="base"),
        pytest.param(ParseError, jsonrpc.PARSE_ERROR, id="parse"),
        pytest.param(InvalidRequest, jsonrpc.INVALID_REQUEST, id="invalid-request"),
        pytest.param(MethodNotFound, jsonrpc.METHOD_NOT_FOUND, id="method-not-found"),
        pytest.param(InvalidParams, jsonrpc.INVALID_PARAMS, id="invalid-params"),
        pytest.param(InternalError, jsonrpc.INTERNAL_ERROR, id="internal"),
        pytest.param(HeaderMismatch, jsonrpc.HEADER_MISMATCH, id="header-mismatch"),
        pytest.param(UnsupportedProtocolVersion, jsonrpc.UNSUPPORTED_PROTOCOL_VERSION, id="unsupported"),
    ],
)
def test_error_codes_are_the_sdks(error: type[JSONRPCError], code: int) -> None:
    """Each JSON-RPC error class carries the SDK's code for it."""
    assert error.code == code


def test_meta_keys_are_the_sdks() -> None:
    """The 2026-07-28 `_meta` keys the envelope reads and the core writes are the SDK's."""
    assert envelope.PROTOCOL_VERSION_META_KEY == mcp_types.PROTOCOL_VERSION_META_KEY
    assert envelope.CLIENT_CAPABILITIES_META_KEY == mcp_types.CLIENT_CAPABILITIES_META_KEY
    assert core.SERVER_INFO_META_KEY == mcp_types.SERVER_INFO_META_KEY


def test_revisions_are_the_sdks_registry() -> None:
    """The revisions served, in order, and the newest handshake one are the SDK's registry."""
    assert versions.HANDSHAKE_REVISIONS == version.HANDSHAKE_PROTOCOL_VERSIONS
    assert versions.MODERN_REVISIONS == version.MODERN_PROTOCOL_VERSIONS
    assert versions.NEWEST_HANDSHAKE_REVISION == version.LATEST_HANDSHAKE_VERSION
