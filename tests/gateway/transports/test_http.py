"""Content negotiation and media-type checks for the MCP endpoints (`gateway/transports/http.py`)."""

from __future__ import annotations

import pytest

from gateway.errors import HTTPError
from gateway.transports.http import (
    _ACCEPTS_REMEMBERED,
    Accepts,
    _remembered_negotiation,
    negotiate,
    require_json,
)

BOTH = Accepts(json=True, event_stream=True)
JSON_ONLY = Accepts(json=True, event_stream=False)
STREAM_ONLY = Accepts(json=False, event_stream=True)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param("application/json, text/event-stream", BOTH, id="both"),
        pytest.param("text/event-stream", STREAM_ONLY, id="only-event-stream"),
        pytest.param("application/json", JSON_ONLY, id="only-json"),
        pytest.param("*/*", BOTH, id="any"),
        pytest.param("application/*", JSON_ONLY, id="application-wildcard"),
        pytest.param("text/*", STREAM_ONLY, id="text-wildcard"),
        pytest.param(None, BOTH, id="missing"),
        pytest.param("", BOTH, id="empty"),
        pytest.param("  ", BOTH, id="blank"),
        pytest.param("APPLICATION/JSON", JSON_ONLY, id="case-insensitive"),
        pytest.param("application/json; charset=utf-8; q=0.5", JSON_ONLY, id="parameters"),
        pytest.param("text/html, application/json;q=0.1", JSON_ONLY, id="among-unrelated"),
        pytest.param("application/json;q=0, text/event-stream", STREAM_ONLY, id="json-excluded"),
        pytest.param("application/json, text/event-stream;q=0.0", JSON_ONLY, id="event-stream-excluded"),
        pytest.param("application/json;q=high", JSON_ONLY, id="unreadable-quality-counts-as-one"),
        pytest.param("application/json, */*;q=0", JSON_ONLY, id="wildcard-excluded"),
    ],
)
def test_negotiate(accept: str | None, expected: Accepts) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param("text/event-stream;q=0, */*", JSON_ONLY, id="event-stream-excluded"),
        pytest.param("application/json;q=0, */*", STREAM_ONLY, id="json-excluded"),
        pytest.param(
            "application/json;q=0, application/*, text/*", STREAM_ONLY, id="json-excluded-from-range"
        ),
    ],
)
def test_negotiate_a_specific_exclusion_overrides_a_wildcard(accept: str, expected: Accepts) -> None:
    """RFC 9110 §12.5.1: the most specific media range takes precedence, so q=0 on a type excludes it."""
    assert negotiate(accept) == expected


@pytest.mark.parametrize(
    "accept",
    [
        pytest.param("text/html, image/png", id="unrelated-types"),
        pytest.param("application/xml", id="unrelated-application-type"),
        pytest.param("application/json;q=0", id="only-type-excluded"),
        pytest.param("application/json;q=0, text/event-stream;q=0", id="both-excluded"),
        pytest.param("*/*;q=0", id="wildcard-excluded"),
    ],
)
def test_negotiate_refuses_when_nothing_we_send_is_acceptable(accept: str) -> None:
    with pytest.raises(HTTPError) as caught:
        negotiate(accept)
    assert (caught.value.status_code, caught.value.message) == (
        406,
        "Accept application/json or text/event-stream.",
    )


def test_a_remembered_answer_is_the_same_and_a_refusal_refuses_every_time() -> None:
    for _ in range(3):
        assert negotiate("application/json, text/event-stream") == BOTH
        with pytest.raises(HTTPError) as caught:
            negotiate("application/xml")
        assert caught.value.status_code == 406


def test_only_short_accept_headers_are_remembered_and_never_more_than_the_bound() -> None:
    """A client cycling through distinct or huge headers cannot grow the memory the answers take."""
    _remembered_negotiation.cache_clear()
    assert negotiate("application/json;" + "x=y;" * 100) == JSON_ONLY
    assert _remembered_negotiation.cache_info().currsize == 0
    for serial in range(_ACCEPTS_REMEMBERED * 2):
        assert negotiate(f"application/json;v={serial}") == JSON_ONLY
    assert _remembered_negotiation.cache_info().currsize == _ACCEPTS_REMEMBERED


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/json", id="plain"),
        pytest.param("application/json; charset=utf-8", id="charset"),
        pytest.param("Application/JSON;charset=UTF-8", id="case-insensitive"),
        pytest.param("application/octet-stream", id="chatgpt-scanner-octet-stream"),
    ],
)
def test_require_json_accepts_application_json(content_type: str) -> None:
    require_json({"content-type": content_type})


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"content-type": "text/plain"}, id="text-plain"),
        pytest.param({"content-type": "text/plain;charset=UTF-8"}, id="text-plain-charset"),
        pytest.param({"content-type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param({"content-type": "multipart/form-data; boundary=x"}, id="multipart"),
        pytest.param({"content-type": "application/json-patch+json"}, id="json-suffix"),
        pytest.param({"content-type": ""}, id="empty"),
        pytest.param({}, id="missing"),
    ],
)
def test_require_json_refuses_other_media_types(headers: dict[str, str]) -> None:
    with pytest.raises(HTTPError) as caught:
        require_json(headers)
    assert (caught.value.status_code, caught.value.message) == (
        415,
        "Send the JSON-RPC message with Content-Type: application/json.",
    )
