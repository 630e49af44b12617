"""Upstream failures turned into one actionable `OpenPhoneError` (`tools/api_errors.py`)."""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.api_errors import (
    connection_error,
    error_from_response,
    malformed_error,
    rate_limited_error,
    timeout_error,
)
from tools.errors import OpenPhoneError

SECRET = "op-test-key-0123456789"
VALUE = "VALUE-ECHO-7f3a9c-do-not-repeat"
TRACE = "5640373784117800080"
MAYBE_SENT = "It may still have taken effect: check (for a message, with fetch-messages) before trying again."
KEY_REJECTED = (
    "OpenPhone rejected the API key. Check that the key is current (OpenPhone: Settings > API), "
    "or reconnect with a new one."
)
HTML_404 = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
    b"</head>\n<body>\n<pre>Cannot GET /v1/nope</pre>\n</body>\n</html>\n"
)
C0_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _flat(message: str = "Invalid request body", **overrides: Any) -> bytes:
    """The documented error body (openphone-api-notes.md §3.4)."""
    body: dict[str, Any] = {
        "message": message,
        "code": "0206400",
        "status": 400,
        "docs": "https://openphone.com/docs",
        "title": "Bad Request",
        "trace": TRACE,
        "errors": [
            {
                "path": "/to/0",
                "message": "must match pattern",
                "value": VALUE,
                "schema": {"type": "string"},
            }
        ],
        "description": "Bad Request",
    }
    body.update(overrides)
    return orjson.dumps(body)


def _live(message: str, key: str = "Unauthorized", trace: str = TRACE) -> bytes:
    """The live gateway's error body (openphone-api-notes.md §3.1)."""
    return orjson.dumps({"error": {"message": message, "key": key, "trace": trace}})


def _error(status: int, body: bytes = b"", *, write: bool = False) -> OpenPhoneError:
    return error_from_response(status, body, secret=SECRET, write=write)


# the two body shapes, HTML and no body


def test_a_flat_body_gives_sentence_detail_field_problems_and_trace() -> None:
    error = _error(400, _flat())
    assert str(error) == (
        "OpenPhone rejected the request as invalid: Invalid request body. "
        f"Problems: /to/0: must match pattern. (OpenPhone trace {TRACE})"
    )


def test_a_flat_body_sets_status_code_and_trace() -> None:
    error = _error(400, _flat())
    assert (error.status, error.code, error.trace, error.may_have_happened) == (400, "0206400", TRACE, False)


def test_a_flat_body_never_echoes_a_field_value() -> None:
    error = _error(400, _flat(errors=[{"path": "/content", "message": "too long", "value": VALUE}] * 3))
    assert VALUE not in str(error)


def test_custom_field_problems_are_read_as_key_and_reason() -> None:
    error = _error(400, _flat(errors=[{"key": "Birthday", "reason": "not a date"}], trace=None))
    assert str(error) == (
        "OpenPhone rejected the request as invalid: Invalid request body. Problems: Birthday: not a date."
    )


def test_at_most_five_field_problems_are_listed() -> None:
    errors = [{"path": f"/field{i}", "message": "is required"} for i in range(8)]
    error = _error(400, _flat(errors=errors, trace=None))
    assert str(error).count("is required") == 5


def test_malformed_field_problems_are_skipped() -> None:
    errors = ["oops", 3, None, {"path": "/to"}, {"message": "is required"}]
    error = _error(400, _flat(errors=errors, trace=None))
    assert (
        str(error)
        == "OpenPhone rejected the request as invalid: Invalid request body. Problems: is required."
    )


def test_a_live_401_body_gives_the_key_sentence_and_trace_but_not_the_detail() -> None:
    error = _error(401, _live("Missing authorization header"))
    assert str(error) == f"{KEY_REJECTED} (OpenPhone trace {TRACE})"


def test_a_live_body_sets_trace_and_leaves_code_empty() -> None:
    error = _error(401, _live("Unauthorized"))
    assert (error.status, error.code, error.trace) == (401, None, TRACE)


def test_a_live_400_body_carries_its_message_as_detail() -> None:
    error = _error(400, _live("to must be E.164", key="BadRequest"))
    assert str(error) == (
        f"OpenPhone rejected the request as invalid: to must be E.164. (OpenPhone trace {TRACE})"
    )


def test_an_html_404_page_gives_only_the_not_found_sentence() -> None:
    error = _error(404, HTML_404)
    assert str(error) == (
        "OpenPhone found nothing with that id. Check the id, or list the items to find the right one."
    )
    assert (error.status, error.code, error.trace) == (404, None, None)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"a string"', id="string"),
        pytest.param(b"\xff\xfe\x00", id="not-utf8"),
        pytest.param(b'{"error": "x"}', id="error-not-an-object"),
    ],
)
def test_a_body_without_error_fields_gives_only_the_status_sentence(body: bytes) -> None:
    assert str(_error(409, body)) == (
        "OpenPhone reported a conflict with the current state. For example, a duplicate external id."
    )


# one actionable sentence per status


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        pytest.param(400, "OpenPhone rejected the request as invalid.", id="400"),
        pytest.param(401, KEY_REJECTED, id="401"),
        pytest.param(
            402,
            "OpenPhone refused for billing reasons. The workspace needs prepaid credits or an active plan: "
            "add credits in OpenPhone's billing settings, then try again.",
            id="402",
        ),
        pytest.param(
            403,
            "OpenPhone refused access. The number may not belong to this key's workspace or user, or a plan "
            "or account setting (such as international messaging or call transcripts) is not enabled.",
            id="403",
        ),
        pytest.param(
            404,
            "OpenPhone found nothing with that id. Check the id, or list the items to find the right one.",
            id="404",
        ),
        pytest.param(
            409,
            "OpenPhone reported a conflict with the current state. For example, a duplicate external id.",
            id="409",
        ),
        pytest.param(422, "OpenPhone could not process the request.", id="422"),
        pytest.param(
            429,
            "OpenPhone's rate limit (10 requests per second per key) was still exceeded after retrying. "
            "Wait a few seconds and try again.",
            id="429",
        ),
        pytest.param(500, "OpenPhone had a server error (HTTP 500). Try again in a minute.", id="500"),
        pytest.param(503, "OpenPhone had a server error (HTTP 503). Try again in a minute.", id="503"),
        pytest.param(418, "OpenPhone answered HTTP 418.", id="unlisted-4xx"),
    ],
)
def test_each_status_gives_its_own_sentence(status: int, sentence: str) -> None:
    error = _error(status)
    assert str(error) == sentence
    assert error.status == status


def test_a_429_does_not_repeat_the_upstream_detail() -> None:
    assert str(_error(429, _live("Too many requests, slow down", key="RateLimited", trace=""))) == (
        "OpenPhone's rate limit (10 requests per second per key) was still exceeded after retrying. "
        "Wait a few seconds and try again."
    )


# writes that may have happened


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_on_a_write_may_have_happened_and_says_to_check_first(status: int) -> None:
    error = _error(status, write=True)
    assert error.may_have_happened is True
    assert str(error) == f"OpenPhone had a server error (HTTP {status}). {MAYBE_SENT}"


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_on_a_read_did_not_happen(status: int) -> None:
    error = _error(status, write=False)
    assert error.may_have_happened is False
    assert MAYBE_SENT not in str(error)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
def test_a_4xx_on_a_write_did_not_happen(status: int) -> None:
    error = _error(status, write=True)
    assert error.may_have_happened is False
    assert MAYBE_SENT not in str(error)


# cleaning what OpenPhone sends back


def test_the_key_echoed_in_every_field_is_redacted() -> None:
    body = _flat(
        message=f"bad key {SECRET}",
        code=SECRET,
        trace=SECRET,
        errors=[{"path": SECRET, "message": f"is {SECRET}", "value": SECRET}],
    )
    error = _error(400, body)
    assert str(error) == (
        "OpenPhone rejected the request as invalid: bad key [redacted]. "
        "Problems: [redacted]: is [redacted]. (OpenPhone trace [redacted])"
    )
    assert (error.code, error.trace) == ("[redacted]", "[redacted]")


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param(SECRET.upper(), id="upper-case"),
        pytest.param(SECRET.lower().title(), id="mixed-case"),
        pytest.param(base64.b64encode(SECRET.encode()).decode(), id="base64"),
        pytest.param(base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="), id="base64url"),
        pytest.param(base64.b64encode(f"{SECRET}:".encode()).decode(), id="basic-auth-user"),
    ],
)
def test_a_transformed_copy_of_the_key_is_redacted(copy: str) -> None:
    """Review #11: only the exact key was redacted; the result may go to a third-party client or LLM."""
    error = _error(400, _flat(message=f"bad key {copy} here", errors=[], trace=None))
    assert str(error) == "OpenPhone rejected the request as invalid: bad key [redacted] here."


def test_control_characters_in_an_upstream_message_become_single_spaces() -> None:
    error = _error(400, _flat(message="line one\r\n\tline\x00two\x1b[31m\x7f", errors=[], trace=None))
    assert str(error) == "OpenPhone rejected the request as invalid: line one line two [31m."


def test_a_long_upstream_message_is_capped_at_300_characters() -> None:
    error = _error(400, _flat(message="x" * 5000, errors=[], trace=None))
    assert str(error) == "OpenPhone rejected the request as invalid: " + "x" * 300 + "."


def test_a_long_field_problem_is_capped_at_300_characters() -> None:
    error = _error(400, _flat(message="", errors=[{"path": "/p", "message": "y" * 1000}], trace=None))
    assert str(error) == "OpenPhone rejected the request as invalid. Problems: /p: " + "y" * 300 + "."


def test_a_numeric_code_is_kept_as_text_and_a_boolean_one_is_dropped() -> None:
    assert _error(400, _flat(code=206400)).code == "206400"
    assert _error(400, _flat(code=True)).code is None


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
)
# Keys are mostly the ones error_from_response reads, so the nesting reaches its field handling.
JSON_KEYS = st.text(max_size=8) | st.sampled_from(
    ["error", "message", "code", "trace", "errors", "path", "key", "reason"]
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(JSON_KEYS, children, max_size=4),
    max_leaves=12,
)
SECRETS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=16, max_size=40).map(
    lambda tail: "op-" + tail
)


@st.composite
def _echoing_bodies(draw: st.DrawFn, secret: str) -> bytes:
    """An error body in either shape whose text fields mix the secret into arbitrary text."""

    def text() -> str:
        return draw(st.text(max_size=20)) + draw(st.sampled_from(["", secret])) + draw(st.text(max_size=20))

    fields: dict[str, Any] = {
        "message": text(),
        "code": text(),
        "trace": text(),
        "title": text(),
        "errors": [
            {"path": text(), "message": text(), "value": text(), "key": text(), "reason": text()}
            for _ in range(draw(st.integers(0, 6)))
        ],
    }
    payload = {"error": fields} if draw(st.booleans()) else fields
    return orjson.dumps(payload)


@given(status=st.integers(min_value=0, max_value=999), body=st.binary(), write=st.booleans())
def test_error_from_response_never_raises_on_arbitrary_bytes(status: int, body: bytes, write: bool) -> None:
    error = error_from_response(status, body, secret=SECRET, write=write)
    assert error.status == status
    assert str(error).startswith("OpenPhone")
    assert not C0_CONTROL.search(str(error))


@given(status=st.integers(min_value=400, max_value=599), payload=JSON, write=st.booleans())
def test_error_from_response_never_raises_on_arbitrary_json(status: int, payload: Any, write: bool) -> None:
    error = error_from_response(status, orjson.dumps(payload), secret=SECRET, write=write)
    assert not C0_CONTROL.search(str(error))


@given(data=st.data(), secret=SECRETS, status=st.integers(min_value=400, max_value=599), write=st.booleans())
def test_the_secret_never_appears_in_the_error_even_when_echoed(
    data: st.DataObject, secret: str, status: int, write: bool
) -> None:
    error = error_from_response(status, data.draw(_echoing_bodies(secret)), secret=secret, write=write)
    assert secret not in str(error)
    assert secret not in (error.code or "")
    assert secret not in (error.trace or "")


@given(status=st.integers(min_value=400, max_value=599), value=st.text(min_size=1))
def test_a_field_value_is_never_echoed(status: int, value: str) -> None:
    body = _flat(message="", trace=None, errors=[{"path": "/x", "message": "bad", "value": VALUE + value}])
    assert VALUE not in str(error_from_response(status, body, secret=SECRET, write=True))


# the other failures


def test_a_rate_limited_error_says_how_long_to_wait() -> None:
    error = rate_limited_error(2.4)
    assert str(error) == (
        "OpenPhone's rate limit (10 requests per second per key) was still exceeded after retrying. "
        "Wait about 2 s and try again."
    )
    assert (error.status, error.retry_after) == (429, 2.4)


def test_a_sub_second_retry_after_is_rounded_up_to_one_second() -> None:
    assert str(rate_limited_error(0.2)).endswith(" Wait about 1 s and try again.")


def test_a_rate_limited_error_without_retry_after_gives_no_wait() -> None:
    assert str(rate_limited_error(None)) == (
        "OpenPhone's rate limit (10 requests per second per key) was still exceeded after retrying."
    )


def test_a_timeout_after_a_write_was_sent_may_have_happened() -> None:
    error = timeout_error(30, write=True, sent=True)
    assert str(error) == f"OpenPhone did not answer within 30 s. {MAYBE_SENT}"
    assert error.may_have_happened is True


@pytest.mark.parametrize(("write", "sent"), [(False, True), (True, False), (False, False)])
def test_a_timeout_of_a_read_or_of_an_unsent_write_did_not_happen(write: bool, sent: bool) -> None:
    error = timeout_error(2.5, write=write, sent=sent)
    assert str(error) == "OpenPhone did not answer within 2.5 s. Try again in a minute."
    assert error.may_have_happened is False


@pytest.mark.parametrize("write", [True, False])
def test_a_connection_that_never_opened_sent_nothing(write: bool) -> None:
    error = connection_error(write=write, sent=False)
    assert str(error) == "Could not connect to OpenPhone; nothing was sent. Try again in a minute."
    assert error.may_have_happened is False


def test_a_connection_lost_after_a_write_was_sent_may_have_happened() -> None:
    error = connection_error(write=True, sent=True)
    assert str(error) == f"The connection to OpenPhone was lost before it answered. {MAYBE_SENT}"
    assert error.may_have_happened is True


def test_a_connection_lost_during_a_read_did_not_happen() -> None:
    error = connection_error(write=False, sent=True)
    assert str(error) == "The connection to OpenPhone was lost before it answered. Try again in a minute."
    assert error.may_have_happened is False


def test_an_unreadable_success_body_on_a_write_may_have_happened() -> None:
    error = malformed_error(201, write=True)
    assert str(error) == (
        "OpenPhone answered HTTP 201 with a body that is not the JSON it documents. " + MAYBE_SENT
    )
    assert (error.status, error.may_have_happened) == (201, True)


def test_an_unreadable_success_body_on_a_read_says_to_try_again() -> None:
    error = malformed_error(200)
    assert str(error) == (
        "OpenPhone answered HTTP 200 with a body that is not the JSON it documents. "
        "Try again; if it persists, OpenPhone may be having problems."
    )
    assert error.may_have_happened is False
