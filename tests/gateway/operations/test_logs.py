"""JSON-lines logging and redaction (`gateway/operations/logs.py`)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.operations.logs import (
    CLEAN_TEXTS_REMEMBERED,
    DEFAULT_REDACTOR,
    LOG_FIELDS,
    JSONFormatter,
    JSONLinesHandler,
    Redactor,
    RequestIdFilter,
    configure_logging,
    current_request_id,
    last_four,
    log_fields,
    redact,
    session_ref,
)

BASE_FIELDS = ("ts", "level", "logger", "msg")
TEN_DIGITS = re.compile(r"\d{10,}")
JWE = (
    "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..c2VlZC1pdi0xMg.Y2lwaGVydGV4dC1vZi10aGUtdG9rZW4"
    ".dGFnLXRhZy10YWctdGFn"
)
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def render(
    msg: str = "hello",
    *args: object,
    extra: dict[str, Any] | None = None,
    exc_info: bool = False,
) -> dict[str, Any]:
    """Format one record as `logger.info(msg, *args, extra=extra)` would make it; parse the line."""
    if exc_info:
        try:
            raise ValueError("card +14155550123 and Bearer sk_secret")
        except ValueError:
            caught = sys.exc_info()
        record = logging.LogRecord("tests.logs", logging.ERROR, __file__, 1, msg, args, caught)
    else:
        record = logging.LogRecord("tests.logs", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra or {})
    output = JSONFormatter().format(record)
    assert "\n" not in output
    parsed: dict[str, Any] = json.loads(output)
    return parsed


class TestJSONFormatter:
    def test_a_record_has_exactly_the_base_fields(self) -> None:
        """Without extras, a line holds ts, level, logger and msg, and nothing else."""
        line = render("%s called %d times", "ping", 3)
        assert list(line) == list(BASE_FIELDS)
        assert line["level"] == "INFO"
        assert line["logger"] == "tests.logs"
        assert line["msg"] == "ping called 3 times"

    def test_ts_is_rfc3339_utc_with_milliseconds(self) -> None:
        before = datetime.now(UTC).replace(microsecond=0)
        line = render()
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])
        logged = datetime.fromisoformat(line["ts"])
        assert before <= logged <= datetime.now(UTC)

    def test_allowed_extras_are_kept_and_others_dropped(self) -> None:
        """Every allow-listed field passes with its JSON type; a body or a key never does."""
        allowed: dict[str, Any] = {name: f"value-{name}" for name in LOG_FIELDS}
        allowed.update(status=200, duration_ms=12.5, upstream_status=429, upstream_ms=80.0, count=3)
        line = render(extra={**allowed, "body": "hello there", "api_key": "op-key", "headers": {}})
        assert line == {**{name: line[name] for name in BASE_FIELDS}, **allowed}
        assert list(line) == [*BASE_FIELDS, *LOG_FIELDS]

    def test_none_extras_are_left_out(self) -> None:
        line = render(extra={"client_ip": None, "status": 0})
        assert list(line) == [*BASE_FIELDS, "status"]
        assert line["status"] == 0

    def test_exception_yields_only_its_class_name(self) -> None:
        """Neither the exception's message nor its traceback is written: they can carry request data."""
        line = render("tool failed", exc_info=True)
        assert line == {**{name: line[name] for name in BASE_FIELDS}, "exc_type": "ValueError"}
        assert line["msg"] == "tool failed"
        assert line["level"] == "ERROR"

    def test_message_is_redacted(self) -> None:
        line = render("sent to %s with Bearer %s", "+14155550123", "sk_live_abc")
        assert line["msg"] == "sent to +…0123 with Bearer [redacted]"

    def test_string_fields_are_redacted(self) -> None:
        line = render(extra={"reason": "token=abc refused", "path": "/contacts/+14155550123"})
        assert (line["reason"], line["path"]) == ("token=[redacted] refused", "/contacts/+…0123")

    def test_non_scalar_field_is_logged_as_its_redacted_text(self) -> None:
        line = render(extra={"reason": ["Bearer abc", 4155550123]})
        assert line["reason"] == "['Bearer [redacted]', …0123]"

    @pytest.mark.parametrize("field", ["request_id", "principal", "session"])
    def test_minted_identifier_is_kept_verbatim(self, field: str) -> None:
        """A hex digest that happens to hold ten digits in a row is an id, not a phone number."""
        line = render(extra={field: "a1234567890bcdef"})
        assert line[field] == "a1234567890bcdef"

    def test_identifier_of_digits_only_is_redacted(self) -> None:
        line = render(extra={"principal": "14155550123"})
        assert line["principal"] == "…0123"

    def test_newlines_in_the_message_stay_on_one_line(self) -> None:
        """An attacker-controlled value cannot forge a second log line."""
        line = render("name: %s", 'x\n{"level": "CRITICAL"}')
        assert line["msg"] == 'name: x\n{"level": "CRITICAL"}'

    def test_arguments_that_do_not_fit_log_the_bare_format(self) -> None:
        line = render("%s and %s", "+14155550123")
        assert line["msg"] == "%s and %s"

    def test_lone_surrogate_still_yields_valid_json(self) -> None:
        line = render("path %s", "/caf\udce9")
        assert line["msg"] == "path /caf\udce9"

    def test_integer_beyond_64_bits_still_yields_valid_json(self) -> None:
        line = render(extra={"count": 2**70})
        assert line["count"] == 2**70


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("+14155550123", "+…0123", id="e164"),
        pytest.param("to +447911123456.", "to +…3456.", id="e164-in-sentence"),
        pytest.param("+3545551234", "+…1234", id="e164-ten-digits"),
        pytest.param("+6831234", "+…1234", id="e164-seven-digits"),
        pytest.param("4155550123", "…0123", id="ten-digit-run"),
        pytest.param("order 12345678901234567890", "order …7890", id="twenty-digit-run"),
        pytest.param("AC4155550123x", "AC…0123x", id="digit-run-inside-a-word"),
        pytest.param("٤١٥٥٥٥٠١٢٣", "…٠١٢٣", id="arabic-indic-digits"),
        pytest.param("415555012", "415555012", id="nine-digits-kept"),
        pytest.param("+123456", "+123456", id="plus-six-digits-kept"),
        pytest.param("(415) 555-0123", "(415) 555-0123", id="formatted-national-not-caught"),
        pytest.param("+1 415 555 0123", "+1 415 555 0123", id="spaced-e164-not-caught"),
        pytest.param(JWE, "[token]", id="jwe-five-segments"),
        pytest.param(f"sealed {JWE}, then", "sealed [token], then", id="jwe-in-sentence"),
        pytest.param(JWT, "[token]", id="jws-three-segments"),
        pytest.param(f"got {JWT}.", "got [token].", id="jws-before-full-stop"),
        pytest.param(f"...{JWT}...", "...[token]...", id="jws-between-ellipses"),
        pytest.param("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEifQ.", "[token]", id="unsecured-jwt"),
        pytest.param("/authorize/" + JWT, "/authorize/[token]", id="jws-in-path"),
        pytest.param("a.b.c", "a.b.c", id="short-dotted-kept"),
        pytest.param("x" * 20 + "." + "y" * 20, "x" * 20 + "." + "y" * 20, id="two-segments-kept"),
        pytest.param(
            "aaaaaaaaaa.bbbbbbbbbb.cccccccccc.dddddddddd",
            "aaaaaaaaaa.bbbbbbbbbb.cccccccccc.dddddddddd",
            id="four-segments-kept",
        ),
        pytest.param("Bearer abc.def", "Bearer [redacted]", id="bearer"),
        pytest.param("bearer sk_live", "bearer [redacted]", id="bearer-lower-case"),
        pytest.param("sessionId=abc123", "sessionId=[redacted]", id="session-id-camel"),
        pytest.param("/messages/?session_id=abc&x=1", "/messages/?session_id=[redacted]&x=1", id="query"),
        pytest.param("api_key=sk_live", "api_key=[redacted]", id="api-key"),
        pytest.param(
            "code=c1&state=s1&code_verifier=v1",
            "code=[redacted]&state=[redacted]&code_verifier=[redacted]",
            id="oauth-callback",
        ),
        pytest.param(
            "grant_type=refresh_token&refresh_token=r1&client_secret=s2",
            "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]",
            id="token-request-form",
        ),
        pytest.param("PASSWORD=hunter2 ok", "PASSWORD=[redacted] ok", id="param-name-case-insensitive"),
        pytest.param("error_code=42", "error_code=42", id="param-name-must-be-whole"),
        pytest.param("code=", "code=", id="empty-param-kept"),
        pytest.param("Authorization: Basic dXNlcjpwYXNz", "Authorization: [redacted]", id="authorization"),
        pytest.param("x-api-key: op-123\nnext", "x-api-key: [redacted]\nnext", id="x-api-key-to-eol"),
        pytest.param("X-OpenPhone-Api-Key:op-123", "X-OpenPhone-Api-Key:[redacted]", id="openphone-key"),
        pytest.param(
            "{'authorization': 'Bearer abc', 'accept': '*/*'}",
            "{'authorization': '[redacted]', 'accept': '*/*'}",
            id="headers-dict-repr",
        ),
        pytest.param('"x-api-key": "op-1"', '"x-api-key": "[redacted]"', id="headers-json"),
        pytest.param("mcp-session-id: 5f1c", "mcp-session-id: [redacted]", id="mcp-session-id"),
        pytest.param("authorization failed", "authorization failed", id="word-authorization-kept"),
        pytest.param("tool send_message: ok", "tool send_message: ok", id="plain-text"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redactor_takes_its_own_parameter_and_header_names() -> None:
    redactor = Redactor(secret_params=("otp",), secret_headers=("x-secret",))
    assert redactor.redact("otp=123&code=4 x-secret: s") == "otp=[redacted]&code=4 x-secret: [redacted]"


def test_redaction_of_a_digit_run_exposing_a_token_is_idempotent() -> None:
    """Cutting a digit run out of a dotted run can leave a token-shaped rest; it is caught too."""
    text = "aaaa.b12345678901.cccccccccccccccccccccccc.dddddddddddd"
    assert redact(text) == "aaaa.b…[token]"
    assert redact(redact(text)) == redact(text)


FRAGMENTS = st.sampled_from(
    [
        "+",
        ".",
        "..",
        "=",
        "&",
        ":",
        " ",
        "\n",
        "'",
        '"',
        "…",
        "0123456789",
        "4155550123",
        "+1415",
        "5550123",
        "Bearer ",
        "code=",
        "sessionId=",
        "authorization: ",
        "x-api-key=",
        "[redacted]",
        "[token]",
        "eyJhbGciOiJkaXIi",
        "abcdefghijklmnopqrstuvwxyz",
        JWT,
    ]
)
TEXTS = st.text() | st.lists(FRAGMENTS | st.text(max_size=3), max_size=24).map("".join)


@given(TEXTS)
@example("aaaa.b12345678901.cccccccccccccccccccccccc.dddddddddddd")
def test_redact_is_idempotent_and_leaves_no_long_digit_run(text: str) -> None:
    """redact never raises, redacting twice changes nothing, and no ten digits in a row survive."""
    redacted = redact(text)
    assert redact(redacted) == redacted
    assert TEN_DIGITS.search(redacted) is None


NEAR_MISSES = st.lists(
    st.sampled_from(
        [
            *("bearer", "Bearer", " ", "\t", ".", "-", "_", "/", "+", "…", "'", '"', ","),
            *("123456", "x" * 20, "\u0661\u0662\u0663", "POST", "/mcp", "\n"),
        ]
    )
    | st.text(max_size=3),
    max_size=30,
).map("".join)


@given(NEAR_MISSES | TEXTS)
@example("a" * 39 + ".")
@example("\u0661\u0662\u0663\u0664\u0665\u0666")
def test_text_the_shortcut_passes_has_nothing_to_redact(text: str) -> None:
    """`redact` returns text as it is when no pattern could match; the full passes must agree."""
    if not DEFAULT_REDACTOR.may_leak(text):
        assert DEFAULT_REDACTOR.scrub(text) == text


@pytest.mark.parametrize("text", ["POST /mcp 200", "127.0.0.1", "list-phone-numbers", "GET /sse"])
def test_everyday_log_text_takes_the_shortcut(text: str) -> None:
    assert not DEFAULT_REDACTOR.may_leak(text)


@pytest.mark.parametrize("text", ["Bearer\tabc", "x=1", "+1415555", "a" * 40, "\u0661" * 7])
def test_text_with_a_possible_secret_is_scrubbed(text: str) -> None:
    assert DEFAULT_REDACTOR.may_leak(text)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        pytest.param("+14155550123", "+…0123", id="e164"),
        pytest.param("(415) 555-0123", "…0123", id="formatted"),
        pytest.param(" +44 7911 123456", "+…3456", id="spaced-e164"),
        pytest.param("911", "…911", id="short-code"),
    ],
)
def test_last_four(number: str, expected: str) -> None:
    assert last_four(number) == expected


def test_last_four_reads_like_redaction() -> None:
    assert last_four("+14155550123") == redact("+14155550123")


def test_session_ref_is_the_sha256_prefix() -> None:
    session_id = "3f1c9e1a-7d62-4a55-9a5b-1c2d3e4f5a6b"
    assert session_ref(session_id) == hashlib.sha256(session_id.encode()).hexdigest()[:8]


def test_session_ref_never_contains_the_session_id() -> None:
    assert session_ref("abcdefgh") != "abcdefgh"
    assert len(session_ref("abcdefgh")) == 8


@pytest.fixture
def logging_state() -> Iterator[None]:
    """Put the root and uvicorn loggers back as they were: configure_logging changes process state."""
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {
        name: (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    root.handlers[:] = saved_root[0]
    root.setLevel(saved_root[1])
    for name, (handlers, level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
        logger.disabled = disabled


@pytest.mark.usefixtures("logging_state")
class TestConfigureLogging:
    def test_root_gets_one_json_handler_on_stderr(self) -> None:
        configure_logging("INFO")
        configure_logging("DEBUG")
        (handler,) = logging.getLogger().handlers
        assert isinstance(handler, logging.StreamHandler)
        assert handler.stream is sys.stderr
        assert isinstance(handler.formatter, JSONFormatter)
        assert [type(f) for f in handler.filters] == [RequestIdFilter]
        assert logging.getLogger().level == logging.DEBUG

    def test_records_are_written_as_json_lines(self, capsys: pytest.CaptureFixture[str]) -> None:
        configure_logging("INFO")
        logging.getLogger("gateway.test").info("sent to %s", "+14155550123", extra={"tool": "send"})
        logging.getLogger("gateway.test").debug("below the level")
        (line,) = capsys.readouterr().err.splitlines()
        assert {name: value for name, value in json.loads(line).items() if name != "ts"} == {
            "level": "INFO",
            "logger": "gateway.test",
            "msg": "sent to +…0123",
            "tool": "send",
        }

    def test_lines_logged_during_a_request_carry_its_id(self, capsys: pytest.CaptureFixture[str]) -> None:
        configure_logging("INFO")
        token = current_request_id.set("req-1")
        try:
            logging.getLogger("gateway.test").info("inside")
        finally:
            current_request_id.reset(token)
        assert json.loads(capsys.readouterr().err)["request_id"] == "req-1"

    def test_uvicorn_loggers_propagate_without_handlers_of_their_own(self) -> None:
        logging.getLogger("uvicorn.error").addHandler(logging.NullHandler())
        logging.getLogger("uvicorn").propagate = False
        configure_logging("WARNING")
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            assert (logger.handlers, logger.propagate, logger.level) == ([], True, logging.WARNING)

    def test_uvicorn_access_log_stays_off(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The edge writes the access line; uvicorn's would carry the query string."""
        configure_logging("INFO")
        logging.getLogger("uvicorn.access").info('127.0.0.1:5 - "GET /x?code=1 HTTP/1.1" 200')
        logging.getLogger("uvicorn.error").info("Started server process")
        (line,) = capsys.readouterr().err.splitlines()
        assert json.loads(line)["logger"] == "uvicorn.error"


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
@example(1778461098.8599994)
@example(1700000000.9999995)
def test_the_timestamp_is_the_records_time_as_datetime_writes_it(created: float) -> None:
    """The cached per-second prefix and the milliseconds agree with `datetime` to the digit."""
    formatter = JSONFormatter()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "m", None, None)
    record.created = created
    moment = datetime.fromtimestamp(created, UTC)
    expected = f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
    assert json.loads(formatter.format(record))["ts"] == expected


ACCESS_FIELDS: dict[str, Any] = {
    "request_id": "0123456789abcdef0123456789abcdef",
    "method": "GET",
    "path": "/calls/+14155550123/Bearer abc",
    "status": 200,
    "duration_ms": 1.5,
    "client_ip": "127.0.0.1",
    "principal": "9f86d081884c7d65",
    "tool": None,
    "upstream_ms": 12.25,
    "not_allow_listed": "dropped",
}


class Collecting(logging.Handler):
    """A handler of another kind: it keeps the records it is given."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def lone_logger() -> logging.Logger:
    """A logger of its own, reaching only the handlers a test gives it.

    Made outside `logging.getLogger`'s registry: pytest adds its capturing handler to every
    registered logger that does not propagate, and a handler of another kind takes the line the
    record's way, which would leave the way without a record untested.
    """
    logger = logging.Logger("tests.logs.fields", logging.INFO)
    logger.propagate = False
    return logger


class TestLogFields:
    def test_the_line_written_from_fields_is_the_line_of_the_record(
        self, lone_logger: logging.Logger
    ) -> None:
        """Same fields, same redaction: only `ts` can differ, being taken a moment apart."""
        stream = io.StringIO()
        lone_logger.addHandler(JSONLinesHandler(stream))
        log_fields(lone_logger, "GET /calls/+14155550123 200", ACCESS_FIELDS)
        (written,) = (json.loads(line) for line in stream.getvalue().splitlines())
        record = logging.LogRecord(
            lone_logger.name, logging.INFO, __file__, 1, "GET /calls/+14155550123 200", None, None
        )
        record.__dict__.update(ACCESS_FIELDS)
        formatted = json.loads(JSONFormatter().format(record))
        assert {name: value for name, value in written.items() if name != "ts"} == {
            name: value for name, value in formatted.items() if name != "ts"
        }
        assert (written["msg"], written["path"]) == (
            "GET /calls/+…0123 200",
            "/calls/+…0123/Bearer [redacted]",
        )
        assert "not_allow_listed" not in written

    def test_another_handler_gets_a_record_and_every_handler_one_line(
        self, lone_logger: logging.Logger
    ) -> None:
        stream = io.StringIO()
        records: list[logging.LogRecord] = []
        collecting = Collecting(records)
        lone_logger.addHandler(JSONLinesHandler(stream))
        lone_logger.addHandler(collecting)
        log_fields(lone_logger, "GET /x 200", ACCESS_FIELDS)
        (record,) = records
        assert (record.getMessage(), record.__dict__["request_id"]) == (
            "GET /x 200",
            ACCESS_FIELDS["request_id"],
        )
        assert len(stream.getvalue().splitlines()) == 1

    def test_a_filter_on_the_logger_is_honoured(self, lone_logger: logging.Logger) -> None:
        stream = io.StringIO()
        lone_logger.addHandler(JSONLinesHandler(stream))
        lone_logger.addFilter(lambda record: False)
        try:
            log_fields(lone_logger, "GET /x 200", ACCESS_FIELDS)
        finally:
            lone_logger.filters.clear()
        assert stream.getvalue() == ""

    @pytest.mark.parametrize("switch", ["level", "disabled", "handler-level"])
    def test_nothing_is_written_when_the_level_or_switches_say_so(
        self, lone_logger: logging.Logger, switch: str
    ) -> None:
        stream = io.StringIO()
        handler = JSONLinesHandler(stream)
        lone_logger.addHandler(handler)
        if switch == "level":
            lone_logger.setLevel(logging.WARNING)
        elif switch == "disabled":
            lone_logger.disabled = True
        else:
            handler.setLevel(logging.WARNING)
        log_fields(lone_logger, "GET /x 200", ACCESS_FIELDS)
        assert stream.getvalue() == ""

    def test_a_stream_that_fails_never_fails_the_caller(
        self, lone_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stream = io.StringIO()
        stream.close()
        lone_logger.addHandler(JSONLinesHandler(stream))
        log_fields(lone_logger, "GET /x 200", ACCESS_FIELDS)
        assert "Logging error" in capsys.readouterr().err


class CountingStream(io.StringIO):
    """A stream that counts the writes it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class TestLinesInALoop:
    """In an event loop, lines from fields go out together at the end of the loop's turn."""

    @pytest.mark.anyio
    async def test_the_turns_lines_are_written_once_the_turn_ends_in_one_write(
        self, lone_logger: logging.Logger
    ) -> None:
        stream = CountingStream()
        lone_logger.addHandler(JSONLinesHandler(stream))
        for serial in range(3):
            log_fields(lone_logger, f"GET /{serial} 200", ACCESS_FIELDS)
        assert stream.getvalue() == ""
        await asyncio.sleep(0)
        written = [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]
        assert (written, stream.writes) == (["GET /0 200", "GET /1 200", "GET /2 200"], 1)

    @pytest.mark.anyio
    async def test_a_record_logged_meanwhile_comes_after_the_waiting_lines(
        self, lone_logger: logging.Logger
    ) -> None:
        stream = io.StringIO()
        lone_logger.addHandler(JSONLinesHandler(stream))
        log_fields(lone_logger, "GET /first 200", ACCESS_FIELDS)
        lone_logger.warning("second")
        log_fields(lone_logger, "GET /third 200", ACCESS_FIELDS)
        await asyncio.sleep(0)
        written = [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]
        assert written == ["GET /first 200", "second", "GET /third 200"]

    @pytest.mark.anyio
    async def test_flush_writes_the_waiting_lines(self, lone_logger: logging.Logger) -> None:
        """What `logging.shutdown` does at exit, whether or not the loop turns again."""
        stream = io.StringIO()
        handler = JSONLinesHandler(stream)
        lone_logger.addHandler(handler)
        log_fields(lone_logger, "GET /x 200", ACCESS_FIELDS)
        handler.flush()
        assert [json.loads(line)["msg"] for line in stream.getvalue().splitlines()] == ["GET /x 200"]

    @pytest.mark.anyio
    async def test_a_stream_that_fails_at_the_end_of_the_turn_is_reported_and_the_loop_goes_on(
        self, lone_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
    ) -> None:
        stream = io.StringIO()
        lone_logger.addHandler(JSONLinesHandler(stream))
        log_fields(lone_logger, "GET /calls/+14155550123 200", ACCESS_FIELDS)
        stream.close()
        await asyncio.sleep(0)
        err = capsys.readouterr().err
        assert ("Logging error" in err, "JSON lines were lost" in err, "14155550123" in err) == (
            True,
            True,
            False,
        )


def test_remembered_clean_text_never_lets_a_secret_through() -> None:
    """Only text found clean is remembered, and what is remembered stays bounded."""
    redactor = Redactor()
    leaky = "GET /calls?token=abc 200"
    for _ in range(3):
        assert redactor.redact("POST /mcp 200") == "POST /mcp 200"
        assert redactor.redact(leaky) == "GET /calls?token=[redacted] 200"
    for serial in range(CLEAN_TEXTS_REMEMBERED * 2):
        assert redactor.redact(f"path-{serial}") == f"path-{serial}"
    assert len(redactor._clean) <= CLEAN_TEXTS_REMEMBERED
    assert leaky not in redactor._clean
