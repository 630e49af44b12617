"""The 2026-07-28 per-request envelope: deciding a message's revision and checking its routing headers.

2026-07-28 basic/index "Per-request protocol fields": every request carries
`_meta["io.modelcontextprotocol/protocolVersion"]` and `["io.modelcontextprotocol/clientCapabilities"]`.
Streamable HTTP additionally requires `MCP-Protocol-Version`, `Mcp-Method` and (for tools/call,
resources/read, prompts/get) `Mcp-Name` to agree with the body (SEP-2243). The checks run in the
official SDK's order, so both report the same first failure.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Final

from gateway.errors import HeaderMismatch, InvalidParams, UnsupportedProtocolVersion
from gateway.protocol.jsonrpc import ClientResponse, Message, Request
from gateway.protocol.versions import MODERN_REVISIONS, SUPPORTED_REVISIONS

# 2026-07-28 basic/index "Per-request protocol fields"; the same as `mcp_types`' (held by
# tests/gateway/test_mcp_types_agreement.py, as the runtime does not import that package).
PROTOCOL_VERSION_META_KEY: Final = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_META_KEY: Final = "io.modelcontextprotocol/clientCapabilities"
NAME_BEARING_PARAMS: Final[Mapping[str, str]] = {
    "tools/call": "name",
    "resources/read": "uri",
    "prompts/get": "name",
}
_BASE64_SENTINEL: Final = re.compile(r"^=\?base64\?(?P<payload>.*)\?=$")


def speaks_envelope(params: dict[str, Any] | None, header_revision: str | None) -> bool:
    """Whether a message uses the 2026-07-28 envelope: a modern header, or a protocolVersion in `_meta`."""
    if header_revision in MODERN_REVISIONS:
        return True
    meta = params.get("_meta") if params else None
    return isinstance(meta, dict) and PROTOCOL_VERSION_META_KEY in meta


def envelope_revision(method: str, params: dict[str, Any] | None, headers: Mapping[str, str] | None) -> str:
    """The revision a 2026-07-28-style request speaks, after every envelope check.

    `headers` is None on transports without routing headers (legacy SSE), which skips the header checks.
    Raises `InvalidParams`, `HeaderMismatch` or `UnsupportedProtocolVersion`.
    """
    meta = params.get("_meta") if params else None
    if not isinstance(meta, dict):
        raise InvalidParams(
            f"params._meta must be an object carrying {PROTOCOL_VERSION_META_KEY!r} "
            f"and {CLIENT_CAPABILITIES_META_KEY!r}"
        )
    missing = [key for key in (PROTOCOL_VERSION_META_KEY, CLIENT_CAPABILITIES_META_KEY) if key not in meta]
    if missing:
        raise InvalidParams(f"params._meta is missing the required key(s): {', '.join(missing)}")
    revision = meta[PROTOCOL_VERSION_META_KEY]
    if headers is not None:
        _check_routing_headers(method, params or {}, revision, headers)
    if not isinstance(revision, str):
        raise InvalidParams("the protocolVersion in params._meta must be a string")
    if revision not in MODERN_REVISIONS:
        raise unsupported_revision(revision)
    return revision


def unsupported_revision(requested: str) -> UnsupportedProtocolVersion:
    """The -32022 error naming every revision we serve and echoing the one requested."""
    return UnsupportedProtocolVersion(
        "Unsupported protocol version", {"supported": list(SUPPORTED_REVISIONS), "requested": requested}
    )


def _check_routing_headers(
    method: str, params: dict[str, Any], revision: Any, headers: Mapping[str, str]
) -> None:
    if field_value(headers, "mcp-protocol-version") != revision:
        raise HeaderMismatch("MCP-Protocol-Version header does not match the protocolVersion in params._meta")
    if field_value(headers, "mcp-method") != method:
        raise HeaderMismatch("Mcp-Method header does not match the request's method")
    name_key = NAME_BEARING_PARAMS.get(method)
    expected = params.get(name_key) if name_key is not None else None
    if expected is not None and decode_header_value(field_value(headers, "mcp-name")) != expected:
        raise HeaderMismatch(f"Mcp-Name header does not match the request's {name_key!r}")


def field_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value without surrounding spaces and tabs, which RFC 9110 §5.5 excludes from it.

    Not every HTTP parser strips trailing whitespace (httptools keeps it), so it is done here.
    """
    value = headers.get(name)
    return value.strip(" \t") if value is not None else None


def decode_header_value(value: str | None) -> str | None:
    """Undo the `=?base64?…?=` wrapping a client applies to values that are not plain header text.

    A malformed wrapping decodes to None, so it never matches a body value by accident.
    """
    if value is None:
        return None
    match = _BASE64_SENTINEL.fullmatch(value)
    if match is None:
        return value
    payload = match.group("payload")
    try:
        decoded = base64.b64decode(payload, validate=True)
        if base64.b64encode(decoded).decode("ascii") != payload:
            return None
        return decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def message_revision(message: Message, headers: Mapping[str, str] | None, fallback: str) -> str:
    """The revision one message speaks: its 2026-07-28 envelope when it carries one, else `fallback`.

    `fallback` is what the transport knows without the envelope (the MCP-Protocol-Version header,
    or the revision an SSE session negotiated).
    """
    params = None if isinstance(message, ClientResponse) else message.params
    header_revision = field_value(headers, "mcp-protocol-version") if headers is not None else None
    if not speaks_envelope(params, header_revision):
        return fallback
    if isinstance(message, Request):
        return envelope_revision(message.method, params, headers)
    return MODERN_REVISIONS[-1]
