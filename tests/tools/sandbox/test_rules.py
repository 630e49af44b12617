"""The request rules (tools/sandbox/rules.py), pure: page tokens, timestamps, query and body reading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from tools.sandbox.errors import InvalidRequest
from tools.sandbox.rules import (
    QueryReader,
    SendMessageBody,
    decode_page_token,
    encode_page_token,
    parse_timestamp,
    read_json_body,
    summarize,
)

RESOURCES = st.sampled_from(["messages", "calls", "contacts", "conversations"])


@given(resource=RESOURCES, offset=st.integers(0, 999_999_999))
def test_page_tokens_round_trip(resource: str, offset: int) -> None:
    assert decode_page_token(resource, encode_page_token(resource, offset)) == offset


@given(token=st.text(max_size=80))
def test_any_string_decodes_to_an_offset_or_none(token: str) -> None:
    offset = decode_page_token("messages", token)
    assert offset is None or 0 <= offset < 1_000_000_000


def test_a_token_is_bound_to_its_list() -> None:
    assert decode_page_token("calls", encode_page_token("messages", 10)) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-10-20T10:00:00Z", datetime(2026, 10, 20, 10, tzinfo=UTC), id="utc"),
        pytest.param("2026-10-20T10:00:00.250Z", datetime(2026, 10, 20, 10, 0, 0, 250_000, UTC), id="millis"),
        pytest.param(
            "2026-10-20T10:00:00-07:00",
            datetime(2026, 10, 20, 10, tzinfo=timezone(timedelta(hours=-7))),
            id="offset",
        ),
        pytest.param("2026-10-20", None, id="date-only"),
        pytest.param("2026-10-20T10:00:00", None, id="no-offset"),
        pytest.param("2026-10-20 10:00:00Z", None, id="space"),
        pytest.param("2026-13-20T10:00:00Z", None, id="month-13"),
        pytest.param("\uff12\uff10\uff12\uff16-10-20T10:00:00Z", None, id="fullwidth-digits"),
    ],
)
def test_parse_timestamp(text: str, expected: datetime | None) -> None:
    """The spec's `format: date-time` is RFC 3339: a date, a time and an offset."""
    assert parse_timestamp(text) == expected


class TestQueryReader:
    def test_both_array_encodings_are_read(self) -> None:
        """Notes §3.7: `name=` (the spec's) and `name[]=` (seen in the wild) are merged."""
        query = QueryReader(QueryParams("participants=%2B14155550123&participants[]=%2B12125550147"))
        assert query.numbers("participants", required=True) == ["+14155550123", "+12125550147"]
        query.finish()

    def test_a_repeated_scalar_is_refused(self) -> None:
        query = QueryReader(QueryParams("maxResults=5&maxResults=500"))
        query.max_results(100)
        with pytest.raises(InvalidRequest) as raised:
            query.finish()
        assert raised.value.errors == (
            {
                "path": "/maxResults",
                "message": "Expected a single integer, not a repeated parameter",
                "schema": {"type": "integer"},
            },
        )

    @pytest.mark.parametrize(
        ("raw", "expected_value"),
        [
            pytest.param("0", 0, id="zero"),
            pytest.param("101", 101, id="over"),
            pytest.param("1e1", "1e1", id="exponent"),
            pytest.param("٣", "٣", id="non-ascii-digit"),
            pytest.param("9" * 5000, "9" * 5000, id="huge"),
        ],
    )
    def test_max_results_out_of_range_or_not_an_integer(self, raw: str, expected_value: Any) -> None:
        query = QueryReader(QueryParams({"maxResults": raw}))
        assert query.max_results(100) in {1, 0, 101}
        assert [item.get("value") for item in query.errors] == [expected_value]

    def test_absent_optional_parameters_are_none(self) -> None:
        query = QueryReader(QueryParams(""))
        assert (query.date_time("createdAfter"), query.boolean("excludeInactive")) == (None, None)
        assert query.page_offset("messages") == 0
        query.finish()


class TestJSONBody:
    def test_a_valid_send(self) -> None:
        body = read_json_body(
            SendMessageBody, b'{"from":"PNx","to":["+14155550123"],"content":"hi"}', "application/json"
        )
        assert (body.from_, body.to, body.content, body.user_id) == ("PNx", ["+14155550123"], "hi", None)

    def test_redacted_values_are_not_repeated(self) -> None:
        raw = b'{"from":"nowhere","to":["+14155550123"],"content":"   "}'
        with pytest.raises(InvalidRequest) as raised:
            read_json_body(SendMessageBody, raw, "application/json; charset=utf-8", frozenset({"content"}))
        values = {item["path"]: item.get("value", "(none)") for item in raised.value.errors}
        assert values == {"/content": "(none)", "/from": "nowhere"}


def test_summarize_names_three_rules_and_counts_the_rest() -> None:
    items = [{"path": f"/p{n}", "message": "bad"} for n in range(5)]
    assert summarize(items) == "Invalid request: p0: bad; p1: bad; p2: bad (and 2 more)"
