"""The 2026-07-28 per-request envelope and its routing headers (`gateway/protocol/envelope.py`)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import HeaderMismatch, InvalidParams, JSONRPCError, UnsupportedProtocolVersion
from gateway.protocol.envelope import (
    decode_header_value,
    envelope_revision,
    message_revision,
    speaks_envelope,
)
from gateway.protocol.jsonrpc import ClientResponse, Notification, Request

MODERN = "2026-07-28"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
ALL_REVISIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"]
MISSING_META = (
    "params._meta must be an object carrying 'io.modelcontextprotocol/protocolVersion' "
    "and 'io.modelcontextprotocol/clientCapabilities'"
)
VERSION_MISMATCH = "MCP-Protocol-Version header does not match the protocolVersion in params._meta"
METHOD_MISMATCH = "Mcp-Method header does not match the request's method"


def wrapped(text: str) -> str:
    """`text` in the `=?base64?…?=` header wrapping."""
    return f"=?base64?{base64.b64encode(text.encode()).decode()}?="


def envelope(version: Any = MODERN, **params: Any) -> dict[str, Any]:
    """Request params carrying a 2026-07-28 `_meta` envelope."""
    return {"_meta": {VERSION_KEY: version, CAPABILITIES_KEY: {}}, **params}


def routing(method: str, version: str = MODERN, name: str | None = None) -> dict[str, str]:
    """The routing headers a conforming client sends for `method`."""
    headers = {"mcp-protocol-version": version, "mcp-method": method}
    if name is not None:
        headers["mcp-name"] = name
    return headers


def error_of(exc: pytest.ExceptionInfo[JSONRPCError]) -> dict[str, Any]:
    return exc.value.to_error()


@pytest.mark.parametrize(
    ("params", "header", "expected"),
    [
        pytest.param(None, None, False, id="nothing"),
        pytest.param({}, None, False, id="empty-params"),
        pytest.param({"_meta": {}}, None, False, id="meta-without-version"),
        pytest.param({"_meta": "x"}, None, False, id="meta-not-an-object"),
        pytest.param({"_meta": {VERSION_KEY: MODERN}}, None, True, id="meta-version"),
        pytest.param({"_meta": {VERSION_KEY: "2025-06-18"}}, None, True, id="meta-any-version"),
        pytest.param(None, MODERN, True, id="modern-header"),
        pytest.param(None, "2025-11-25", False, id="handshake-header"),
    ],
)
def test_speaks_envelope(params: dict[str, Any] | None, header: str | None, expected: bool) -> None:
    """A modern header, or a protocolVersion in `_meta`, marks a message as using the envelope."""
    assert speaks_envelope(params, header) is expected


def test_envelope_revision_with_matching_headers() -> None:
    assert envelope_revision("tools/list", envelope(), routing("tools/list")) == MODERN


def test_envelope_revision_without_headers_skips_the_header_rung() -> None:
    """headers=None (legacy SSE) checks the body only, so a tools/call needs no Mcp-Name."""
    assert envelope_revision("tools/call", envelope(name="add"), None) == MODERN


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(None, id="no-params"),
        pytest.param({}, id="no-meta"),
        pytest.param({"_meta": [VERSION_KEY]}, id="meta-array"),
    ],
)
def test_envelope_revision_without_meta_is_invalid_params(params: dict[str, Any] | None) -> None:
    with pytest.raises(InvalidParams) as caught:
        envelope_revision("tools/list", params, routing("tools/list"))
    assert error_of(caught) == {"code": -32602, "message": MISSING_META}


@pytest.mark.parametrize(
    ("meta", "missing"),
    [
        pytest.param({CAPABILITIES_KEY: {}}, VERSION_KEY, id="protocol-version"),
        pytest.param({VERSION_KEY: MODERN}, CAPABILITIES_KEY, id="client-capabilities"),
        pytest.param({}, f"{VERSION_KEY}, {CAPABILITIES_KEY}", id="both"),
    ],
)
def test_envelope_revision_names_the_missing_meta_key(meta: dict[str, Any], missing: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        envelope_revision("tools/list", {"_meta": meta}, routing("tools/list"))
    assert error_of(caught) == {
        "code": -32602,
        "message": f"params._meta is missing the required key(s): {missing}",
    }


def test_missing_meta_key_is_reported_before_a_header_mismatch() -> None:
    with pytest.raises(InvalidParams) as caught:
        envelope_revision("tools/list", {"_meta": {VERSION_KEY: MODERN}}, {})
    assert error_of(caught) == {
        "code": -32602,
        "message": f"params._meta is missing the required key(s): {CAPABILITIES_KEY}",
    }


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"mcp-method": "tools/list"}, id="missing"),
        pytest.param(routing("tools/list", version="2025-11-25"), id="different"),
    ],
)
def test_protocol_version_header_mismatch(headers: dict[str, str]) -> None:
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision("tools/list", envelope(), headers)
    assert error_of(caught) == {"code": -32020, "message": VERSION_MISMATCH}


def test_protocol_version_header_is_checked_before_mcp_method() -> None:
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision("tools/list", envelope(), routing("ping", version="2025-11-25"))
    assert error_of(caught) == {"code": -32020, "message": VERSION_MISMATCH}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"mcp-protocol-version": MODERN}, id="missing"),
        pytest.param(routing("tools/call"), id="different"),
    ],
)
def test_mcp_method_header_mismatch(headers: dict[str, str]) -> None:
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision("tools/list", envelope(), headers)
    assert error_of(caught) == {"code": -32020, "message": METHOD_MISMATCH}


def test_mcp_method_header_is_checked_before_mcp_name() -> None:
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision("tools/call", envelope(name="add"), routing("tools/list", name="other"))
    assert error_of(caught) == {"code": -32020, "message": METHOD_MISMATCH}


@pytest.mark.parametrize(
    ("method", "params", "name"),
    [
        pytest.param("tools/call", {"name": "add"}, "add", id="tools-call-plain"),
        pytest.param("tools/call", {"name": "add"}, wrapped("add"), id="tools-call-base64"),
        pytest.param("tools/call", {"name": "envoyer é"}, wrapped("envoyer é"), id="tools-call-non-ascii"),
        pytest.param(
            "resources/read", {"uri": "openphone://calls/1"}, "openphone://calls/1", id="resources-read-plain"
        ),
        pytest.param(
            "resources/read", {"uri": "file:///a b"}, wrapped("file:///a b"), id="resources-read-base64"
        ),
        pytest.param("prompts/get", {"name": "summary"}, "summary", id="prompts-get-plain"),
    ],
)
def test_matching_mcp_name_is_accepted(method: str, params: dict[str, Any], name: str) -> None:
    assert envelope_revision(method, envelope(**params), routing(method, name=name)) == MODERN


@pytest.mark.parametrize(
    ("method", "params", "name", "member"),
    [
        pytest.param("tools/call", {"name": "add"}, None, "name", id="tools-call-missing"),
        pytest.param("tools/call", {"name": "add"}, "Add", "name", id="tools-call-different"),
        pytest.param("tools/call", {"name": "add"}, wrapped("sub"), "name", id="tools-call-base64-different"),
        pytest.param(
            "tools/call", {"name": "add"}, "=?base64?YWRk?=x", "name", id="tools-call-sentinel-tail"
        ),
        pytest.param("tools/call", {"name": "add"}, "=?base64?YWR?=", "name", id="base64-bad-padding"),
        pytest.param("tools/call", {"name": "a"}, "=?base64?YR==?=", "name", id="base64-non-canonical"),
        pytest.param("tools/call", {"name": "add"}, "=?base64?YW*k?=", "name", id="base64-bad-alphabet"),
        pytest.param("tools/call", {"name": "\ufffd"}, "=?base64?/w==?=", "name", id="base64-not-utf8"),
        pytest.param("resources/read", {"uri": "a://b"}, "a://c", "uri", id="resources-read-different"),
        pytest.param("resources/read", {"uri": "a://b"}, None, "uri", id="resources-read-missing"),
        pytest.param("prompts/get", {"name": "summary"}, "other", "name", id="prompts-get-different"),
    ],
)
def test_mcp_name_mismatch(method: str, params: dict[str, Any], name: str | None, member: str) -> None:
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision(method, envelope(**params), routing(method, name=name))
    assert error_of(caught) == {
        "code": -32020,
        "message": f"Mcp-Name header does not match the request's {member!r}",
    }


def test_mcp_name_is_not_checked_when_the_body_has_no_name() -> None:
    """A tools/call without `name` is left to the method's own params check."""
    assert envelope_revision("tools/call", envelope(), routing("tools/call")) == MODERN


def test_mcp_name_is_ignored_for_methods_without_a_name() -> None:
    assert envelope_revision("tools/list", envelope(), routing("tools/list", name="anything")) == MODERN


@pytest.mark.parametrize(
    "version",
    [
        pytest.param(20260728, id="number"),
        pytest.param(None, id="null"),
        pytest.param([MODERN], id="array"),
    ],
)
def test_non_string_version_without_headers_is_invalid_params(version: Any) -> None:
    with pytest.raises(InvalidParams) as caught:
        envelope_revision("tools/list", envelope(version), None)
    assert error_of(caught) == {
        "code": -32602,
        "message": "the protocolVersion in params._meta must be a string",
    }


def test_non_string_version_with_headers_is_a_header_mismatch() -> None:
    """The header rung comes first, and a header (a string) never equals a non-string version."""
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision("tools/list", envelope(20260728), routing("tools/list", version="20260728"))
    assert error_of(caught) == {"code": -32020, "message": VERSION_MISMATCH}


@pytest.mark.parametrize(
    "version",
    [
        pytest.param("2099-01-01", id="unknown"),
        pytest.param("2025-11-25", id="handshake-revision"),
        pytest.param("", id="empty"),
    ],
)
def test_unserved_version_is_unsupported_protocol_version(version: str) -> None:
    with pytest.raises(UnsupportedProtocolVersion) as caught:
        envelope_revision("tools/list", envelope(version), routing("tools/list", version=version))
    assert error_of(caught) == {
        "code": -32022,
        "message": "Unsupported protocol version",
        "data": {"supported": ALL_REVISIONS, "requested": version},
    }


def test_header_mismatch_is_reported_before_an_unsupported_version() -> None:
    with pytest.raises(HeaderMismatch) as caught:
        envelope_revision("tools/list", envelope("2099-01-01"), routing("tools/list"))
    assert error_of(caught) == {"code": -32020, "message": VERSION_MISMATCH}


def test_unsupported_version_without_headers() -> None:
    with pytest.raises(UnsupportedProtocolVersion) as caught:
        envelope_revision("tools/list", envelope("2099-01-01"), None)
    assert error_of(caught) == {
        "code": -32022,
        "message": "Unsupported protocol version",
        "data": {"supported": ALL_REVISIONS, "requested": "2099-01-01"},
    }


def request(params: dict[str, Any] | None = None, method: str = "tools/list") -> Request:
    return Request(jsonrpc="2.0", id=1, method=method, params=params)


def test_message_revision_without_envelope_is_the_fallback() -> None:
    assert message_revision(request(), None, "2025-11-25") == "2025-11-25"


def test_message_revision_with_a_handshake_header_is_the_fallback() -> None:
    headers = {"mcp-protocol-version": "2025-06-18"}
    assert message_revision(request(), headers, "2025-06-18") == "2025-06-18"


def test_message_revision_of_an_enveloped_request_is_its_checked_revision() -> None:
    assert message_revision(request(envelope()), routing("tools/list"), "2025-03-26") == MODERN


def test_message_revision_of_an_enveloped_request_runs_the_header_checks() -> None:
    with pytest.raises(HeaderMismatch) as caught:
        message_revision(request(envelope()), routing("ping"), "2025-03-26")
    assert error_of(caught) == {"code": -32020, "message": METHOD_MISMATCH}


def test_message_revision_with_a_modern_header_and_no_meta_is_invalid_params() -> None:
    with pytest.raises(InvalidParams) as caught:
        message_revision(request(), routing("tools/list"), "2025-03-26")
    assert error_of(caught) == {"code": -32602, "message": MISSING_META}


def test_message_revision_of_an_enveloped_notification_is_the_newest_modern_revision() -> None:
    message = Notification(jsonrpc="2.0", method="notifications/cancelled", params=envelope())
    assert message_revision(message, None, "2025-11-25") == MODERN


def test_message_revision_of_a_client_response_under_a_modern_header() -> None:
    message = ClientResponse(jsonrpc="2.0", id=1, result={})
    assert message_revision(message, {"mcp-protocol-version": MODERN}, "2025-11-25") == MODERN


def test_message_revision_of_a_client_response_without_header_is_the_fallback() -> None:
    message = ClientResponse(jsonrpc="2.0", id=1, result={})
    assert message_revision(message, None, "2025-11-25") == "2025-11-25"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("add", "add", id="plain"),
        pytest.param("", "", id="empty-plain"),
        pytest.param("=?base64?YWRk?=", "add", id="wrapped"),
        pytest.param("=?base64??=", "", id="wrapped-empty"),
        pytest.param("=?base64?w6k=?=", "é", id="wrapped-non-ascii"),
        pytest.param("=?base64?YWRk", "=?base64?YWRk", id="unterminated-is-plain"),
        pytest.param("=?base64?YWR?=", None, id="missing-padding"),
        pytest.param("=?base64?YR==?=", None, id="non-canonical"),
        pytest.param("=?base64?YW k?=", None, id="bad-alphabet"),
        pytest.param("=?base64?/w==?=", None, id="not-utf8"),
    ],
)
def test_decode_header_value(value: str | None, expected: str | None) -> None:
    assert decode_header_value(value) == expected


@given(st.text())
def test_decode_header_value_undoes_base64_wrapping(text: str) -> None:
    assert decode_header_value(wrapped(text)) == text


@given(st.text().filter(lambda value: not value.startswith("=?base64?")))
def test_decode_header_value_returns_plain_values_verbatim(value: str) -> None:
    assert decode_header_value(value) == value
