"""JSON-RPC 2.0 framing: decoding, classifying and encoding messages (`gateway/protocol/jsonrpc.py`)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import InvalidParams, InvalidRequest, ParseError
from gateway.protocol.jsonrpc import (
    ClientResponse,
    Notification,
    Request,
    decode_json,
    encode,
    failure,
    notification,
    parse_message,
    recover_id,
    success,
)

ENVELOPE_MEMBERS = st.sampled_from(["jsonrpc", "id", "method", "params", "result", "error"])
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children) | st.dictionaries(ENVELOPE_MEMBERS | st.text(), children),
    max_leaves=20,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'{"a": [1, "x", null]}', {"a": [1, "x", None]}, id="object"),
        pytest.param(b"[]", [], id="empty-array"),
        pytest.param(b"42", 42, id="number"),
        pytest.param(b'"text"', "text", id="string"),
    ],
)
def test_decode_json_returns_the_value(body: bytes, expected: Any) -> None:
    assert decode_json(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{", id="truncated"),
        pytest.param(b"{'a': 1}", id="single-quotes"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"nul", id="bare-word"),
        pytest.param(b'{"a": 1} {"b": 2}', id="two-documents"),
    ],
)
def test_decode_json_raises_parse_error_on_bad_bytes(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        decode_json(body)
    assert caught.value.to_error() == {"code": -32700, "message": "Parse error: the body is not valid JSON"}


@given(st.binary())
def test_decode_json_either_returns_or_raises_parse_error(body: bytes) -> None:
    """Arbitrary bytes never raise anything but ParseError."""
    with contextlib.suppress(ParseError):
        decode_json(body)


@given(JSON_VALUES)
def test_encode_then_decode_json_round_trips(value: Any) -> None:
    assert decode_json(encode(value)) == value


def test_parse_message_classifies_a_request() -> None:
    message = parse_message({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"cursor": "c"}})
    assert message == Request(jsonrpc="2.0", id=7, method="tools/list", params={"cursor": "c"})


def test_parse_message_accepts_a_string_id() -> None:
    message = parse_message({"jsonrpc": "2.0", "id": "abc", "method": "ping"})
    assert message == Request(jsonrpc="2.0", id="abc", method="ping")


def test_parse_message_classifies_a_notification() -> None:
    message = parse_message({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert message == Notification(jsonrpc="2.0", method="notifications/initialized")


def test_parse_message_classifies_a_client_result() -> None:
    message = parse_message({"jsonrpc": "2.0", "id": 3, "result": {"roots": []}})
    assert message == ClientResponse(jsonrpc="2.0", id=3, result={"roots": []})


def test_parse_message_classifies_a_client_error() -> None:
    message = parse_message({"jsonrpc": "2.0", "id": 3, "error": {"code": -1, "message": "no"}})
    assert message == ClientResponse(jsonrpc="2.0", id=3, error={"code": -1, "message": "no"})


def test_parse_message_ignores_unknown_members() -> None:
    message = parse_message({"jsonrpc": "2.0", "id": 1, "method": "ping", "extra": True})
    assert message == Request(jsonrpc="2.0", id=1, method="ping")


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], id="array"),
        pytest.param("ping", id="string"),
        pytest.param(1, id="number"),
        pytest.param(None, id="null"),
    ],
)
def test_parse_message_rejects_non_objects(obj: Any) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_message(obj)
    assert caught.value.to_error() == {
        "code": -32600,
        "message": "Invalid request: a JSON-RPC message must be an object",
    }


def test_parse_message_rejects_an_object_without_method_or_result() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_message({"jsonrpc": "2.0", "id": 1})
    assert caught.value.message == "Invalid request: the object has neither a method nor a result"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(
            {"jsonrpc": "1.0", "id": 1, "method": "ping"},
            "Invalid request: jsonrpc: Input should be '2.0'",
            id="jsonrpc-1.0",
        ),
        pytest.param(
            {"jsonrpc": 2.0, "id": 1, "method": "ping"},
            "Invalid request: jsonrpc: Input should be '2.0'",
            id="jsonrpc-number",
        ),
        pytest.param(
            {"id": 1, "method": "ping"},
            "Invalid request: jsonrpc: Field required",
            id="jsonrpc-missing",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "id": True, "method": "ping"},
            "Invalid request: id: must be a string or an integer",
            id="request-id-bool",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "id": 1.0, "method": "ping"},
            "Invalid request: id: must be a string or an integer",
            id="request-id-float",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "id": None, "method": "ping"},
            "Invalid request: id: must be a string or an integer",
            id="request-id-null",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "id": False, "result": {}},
            "Invalid request: id: must be a string or an integer",
            id="response-id-bool",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "id": 1, "method": 5},
            "Invalid request: method: Input should be a valid string",
            id="method-number",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["add", 1]},
            "Invalid request: params: Input should be a valid dictionary",
            id="params-array",
        ),
        pytest.param(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": "x"},
            "Invalid request: params: Input should be a valid dictionary",
            id="notification-params-string",
        ),
    ],
)
def test_parse_message_rejects_a_bad_member_naming_it(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_message(obj)
    assert caught.value.to_error() == {"code": -32600, "message": message}


@given(JSON_VALUES)
def test_parse_message_classifies_or_raises_invalid_request(obj: Any) -> None:
    """Any JSON value is a Request, Notification or ClientResponse, or raises InvalidRequest."""
    try:
        message = parse_message(obj)
    except InvalidRequest:
        return
    assert isinstance(message, Request | Notification | ClientResponse)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param({"id": 7, "method": 5}, 7, id="integer"),
        pytest.param({"id": "abc", "jsonrpc": "1.0"}, "abc", id="string"),
        pytest.param({"id": True}, None, id="bool"),
        pytest.param({"id": 1.5}, None, id="float"),
        pytest.param({"id": None}, None, id="null"),
        pytest.param({"id": [1]}, None, id="array"),
        pytest.param({}, None, id="missing"),
        pytest.param([{"id": 1}], None, id="not-an-object"),
    ],
)
def test_recover_id(obj: Any, expected: str | int | None) -> None:
    """recover_id returns the id only when it is itself a string or a non-bool integer."""
    assert recover_id(obj) == expected


def test_success_shape() -> None:
    assert success(4, {"tools": []}) == {"jsonrpc": "2.0", "id": 4, "result": {"tools": []}}


def test_failure_shape_without_data() -> None:
    assert failure("a", InvalidParams("bad cursor")) == {
        "jsonrpc": "2.0",
        "id": "a",
        "error": {"code": -32602, "message": "bad cursor"},
    }


def test_failure_shape_with_data() -> None:
    assert failure(4, InvalidParams("bad cursor", {"cursor": "x"})) == {
        "jsonrpc": "2.0",
        "id": 4,
        "error": {"code": -32602, "message": "bad cursor", "data": {"cursor": "x"}},
    }


def test_failure_with_an_undetermined_id_has_a_null_id() -> None:
    assert failure(None, ParseError("Parse error")) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": "Parse error"},
    }


def test_notification_shape() -> None:
    assert notification("notifications/progress", {"progress": 1}) == {
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progress": 1},
    }


def test_encode_is_compact_json() -> None:
    assert encode({"jsonrpc": "2.0", "id": 1, "result": {"a": [1, 2]}}) == (
        b'{"jsonrpc":"2.0","id":1,"result":{"a":[1,2]}}'
    )


def test_encode_a_batch_is_a_json_array() -> None:
    assert encode([success(1, {}), success(2, {})]) == (
        b'[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]'
    )
