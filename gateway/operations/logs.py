"""JSON-lines logging: one object per record, allow-listed fields only, every string redacted.

DESIGN "Security posture": logs never contain keys, tokens, message bodies or full phone numbers.
Call sites log decisions with structured `extra={...}` fields; this module is the last line of
defence. Only the fields in `LOG_FIELDS` reach the output, an exception contributes only its class
name (its message and traceback can carry request data), and `Redactor` scrubs the message and
every string field for what a mistake would most likely leak.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import re
import sys
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final, TextIO

import orjson

LOG_FIELDS: Final = (
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "principal",
    "tool",
    "outcome",
    "upstream_status",
    "upstream_ms",
    "client_ip",
    "event",
    "session",
    "count",
    "reason",
    "audit_id",
    "grant",
    "client",
    "recipients",
    "send_outcome",
)
# Identifiers the gateway mints (uuid4 hex request ids, credential fingerprints, session refs) are
# hex digests; one can hold ten decimal digits in a row by chance, which must not mangle it.
IDENTIFIER_FIELDS: Final = frozenset({"request_id", "principal", "session", "audit_id", "grant"})
SECRET_PARAMS: Final = (
    "sessionId",
    "session_id",
    "code",
    "code_verifier",
    "state",
    "api_key",
    "token",
    "refresh_token",
    "access_token",
    "client_secret",
    "password",
)
SECRET_HEADERS: Final = (
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-openphone-api-key",
    "mcp-session-id",
    "cookie",
    "set-cookie",
)
REDACTED: Final = "[redacted]"
JWT_PLACEHOLDER: Final = "[token]"
ELLIPSIS: Final = "…"
MIN_TOKEN_CHARS: Final = 40
TOKEN_SEGMENTS: Final = frozenset({3, 5})  # JWS compact (RFC 7515 §7.1), JWE compact (RFC 7516 §7.1)
SESSION_REF_CHARS: Final = 8
# Short texts found to hold nothing to redact, remembered per redactor (up to about 300 KiB).
CLEAN_TEXT_CHARS: Final = 128
CLEAN_TEXTS_REMEMBERED: Final = 2048
UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access")

_DIGEST = re.compile(r"(?=[0-9a-f]*[a-f])[0-9a-f]{8,64}")
_BEARER = re.compile(r"(?i)\b(bearer)[ \t]+[^\s\"',;]+")
_DOTTED_RUN = re.compile(r"(?<![\w.-])[\w-]*(?:\.[\w-]*){2,}", re.ASCII)
_TOKEN_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
# Unicode \d on purpose: a number written in any script's digits is still a number.
_LONG_NUMBER = re.compile(r"(\+)?(\d+)")
_DIGIT = re.compile(r"\d")
_E164_MIN_DIGITS: Final = 7
_RUN_MIN_DIGITS: Final = 10
# Every pattern below needs one of these to match: a `:` or `=` (secret headers and parameters),
# "bearer" and a blank, 7 digits in a row (phone numbers), or a 40-character run of token
# characters (JWS/JWE). Text without any of them is returned as it is, which most log text is.
_MAY_LEAK = re.compile(r"[:=]|(?i:bearer)[ \t]|\d{7}|[A-Za-z0-9_.-]{40}")
# A pass can expose a new match (a digit run cut out of a dotted run can leave a token-shaped
# rest), so passes repeat until nothing changes; that takes two or three in practice.
_MAX_PASSES: Final = 8


class Redactor:
    """Scrubs secrets, tokens and phone numbers out of free text; idempotent, never raises.

    Caught, in this order:
    - a header-like `name: value` or `name=value` for `secret_headers` (case-insensitive, the name
      optionally quoted as in a dict repr): the value, quoted or else to the end of the line;
    - `Bearer <credential>`: the credential;
    - query or form parameters named in `secret_params` (case-insensitive, whole name): the value;
    - JWS/JWE-compact-looking tokens: 3 or 5 base64url segments joined by dots, 40+ characters;
    - `+` and 7 or more digits (E.164) or any run of 10 or more digits: all but the last four.

    Not caught: numbers written with separators (`(415) 555-0123`, `+1 415 555 0123`), raw API keys
    and other opaque secrets (nothing marks them), JSON bodies (`"password": "x"`), Basic credentials
    outside an Authorization header. Over-caught: 10+ digit timestamps and ids, long dotted names.
    """

    def __init__(
        self, *, secret_params: Iterable[str] = SECRET_PARAMS, secret_headers: Iterable[str] = SECRET_HEADERS
    ) -> None:
        headers = "|".join(re.escape(name) for name in sorted(secret_headers, key=len, reverse=True))
        params = "|".join(re.escape(name) for name in sorted(secret_params, key=len, reverse=True))
        self._header = re.compile(
            rf"(?i)(?<![\w-])((?:{headers})[\"']?[ \t]*[:=][ \t]*)(?:\"[^\"\n]*\"?|'[^'\n]*'?|[^\n]*)"
        )
        self._param = re.compile(rf"(?i)(?<![\w-])((?:{params})=)[^&\s#\"']+")
        self._clean: set[str] = set()

    def redact(self, text: str) -> str:
        if text in self._clean:
            return text
        if self.may_leak(text):
            return self.scrub(text)
        # Text found clean is written as it is anyway; remembering it spares the patterns for the
        # methods, paths, addresses and names that recur on every line.
        if len(text) <= CLEAN_TEXT_CHARS:
            if len(self._clean) >= CLEAN_TEXTS_REMEMBERED:
                self._clean.clear()
            self._clean.add(text)
        return text

    @staticmethod
    def may_leak(text: str) -> bool:
        """Whether any pattern could match `text`; most log text (methods, paths, names) cannot."""
        return _MAY_LEAK.search(text) is not None

    def scrub(self, text: str) -> str:
        """`redact` without the shortcut: every pass, whatever the text holds."""
        for _ in range(_MAX_PASSES):
            redacted = self._pass(text)
            if redacted == text:
                break
            text = redacted
        return text

    def _pass(self, text: str) -> str:
        text = self._header.sub(_redact_header_value, text)
        text = _BEARER.sub(rf"\1 {REDACTED}", text)
        text = self._param.sub(rf"\1{REDACTED}", text)
        text = _DOTTED_RUN.sub(_redact_token, text)
        return _LONG_NUMBER.sub(_redact_number, text)


def _redact_header_value(match: re.Match[str]) -> str:
    prefix = match.group(1)
    value = match.group(0)[len(prefix) :]
    if not value:
        return prefix
    if value[0] in ("'", '"'):
        return f"{prefix}{value[0]}{REDACTED}{value[0]}"
    return f"{prefix}{REDACTED}"


def _is_token(run: str) -> bool:
    segments = run.split(".")
    return (
        len(run) >= MIN_TOKEN_CHARS
        and len(segments) in TOKEN_SEGMENTS
        and all(_TOKEN_SEGMENT.fullmatch(segment) for segment in segments)
    )


def _redact_token(match: re.Match[str]) -> str:
    run = match.group(0)
    if _is_token(run):
        return JWT_PLACEHOLDER
    # Sentence punctuation or an ellipsis around a token must not hide it.
    core = run.strip(".")
    if core != run and _is_token(core):
        start = run.index(core)
        return f"{run[:start]}{JWT_PLACEHOLDER}{run[start + len(core) :]}"
    return run


def _redact_number(match: re.Match[str]) -> str:
    plus, digits = match.group(1) or "", match.group(2)
    if len(digits) >= _RUN_MIN_DIGITS or (plus and len(digits) >= _E164_MIN_DIGITS):
        return f"{plus}{ELLIPSIS}{digits[-4:]}"
    return match.group(0)


DEFAULT_REDACTOR: Final = Redactor()


def redact(text: str) -> str:
    """`text` with secrets, tokens and phone numbers scrubbed by the default `Redactor`."""
    return DEFAULT_REDACTOR.redact(text)


def last_four(number: str) -> str:
    """A phone number safe to log: `+14155550123` -> `+…0123`, the form `redact` gives it."""
    digits = "".join(_DIGIT.findall(number))
    plus = "+" if number.lstrip().startswith("+") else ""
    return f"{plus}{ELLIPSIS}{digits[-4:]}"


def session_ref(session_id: str) -> str:
    """A short, stable, non-reversible name for a session id, which must never be logged in full."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:SESSION_REF_CHARS]


# The id of the HTTP request being served (set by the edge), stamped on every record logged for it.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamps `request_id` on records logged while a request is in flight (unless they carry one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and "request_id" not in record.__dict__:
            record.__dict__["request_id"] = request_id
        return True


class JSONFormatter(logging.Formatter):
    """One JSON object per record: `ts`, `level`, `logger`, `msg`, allow-listed extras, `exc_type`.

    `ts` is RFC 3339 UTC with milliseconds. Extras outside `LOG_FIELDS` and `None` values are
    dropped; strings (and anything that is not a JSON scalar, as its `str`) are redacted.
    """

    def __init__(self, *, redactor: Redactor = DEFAULT_REDACTOR) -> None:
        super().__init__()
        self._redactor = redactor
        # The formatted second of the last record: most lines share it with the one before.
        self._second = -1
        self._second_text = ""

    def format(self, record: logging.LogRecord) -> str:
        exc_type = record.exc_info[0] if record.exc_info else None
        return self.line(
            record.created,
            record.levelname,
            record.name,
            _message(record),
            record.__dict__,
            exc_type.__name__ if exc_type is not None else None,
        )

    def line(
        self,
        created: float,
        level: str,
        logger: str,
        message: str,
        fields: Mapping[str, object],
        exc_type: str | None = None,
    ) -> str:
        """The JSON line of a record with these parts; `fields` may hold anything, `LOG_FIELDS` are kept."""
        payload: dict[str, Any] = {
            "ts": self._timestamp(created),
            "level": level,
            "logger": logger,
            "msg": self._redactor.redact(message),
        }
        for name in LOG_FIELDS:
            value = fields.get(name)
            if value is not None:
                payload[name] = self._field(name, value)
        if exc_type is not None:
            payload["exc_type"] = exc_type
        try:
            return orjson.dumps(payload).decode()
        except orjson.JSONEncodeError:
            # orjson refuses lone surrogates and integers beyond 64 bits; the stdlib escapes them.
            return json.dumps(payload, ensure_ascii=True, separators=(",", ":"))

    def _field(self, name: str, value: object) -> object:
        if isinstance(value, bool | int | float):
            return value
        text = value if isinstance(value, str) else str(value)
        if name in IDENTIFIER_FIELDS and _DIGEST.fullmatch(text):
            return text
        return self._redactor.redact(text)

    def _timestamp(self, created: float) -> str:
        """RFC 3339, UTC, milliseconds: `2025-01-31T09:30:00.123Z` (rounded as `datetime` rounds)."""
        # As datetime.fromtimestamp splits and rounds: whole seconds, then microseconds half-even.
        fraction, whole = math.modf(created)
        micros = round(fraction * 1_000_000)
        second = int(whole) + micros // 1_000_000
        if second != self._second:
            self._second = second
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._second_text}.{micros % 1_000_000 // 1000:03d}Z"


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except (TypeError, ValueError, KeyError):
        # Arguments that do not fit the format: the bare format string, never the arguments.
        return str(record.msg)


def configure_logging(level: str) -> None:
    """Route every record, uvicorn's too, through one stderr handler writing JSON lines.

    Replaces the root logger's handlers, so calling it again changes nothing. uvicorn's access log
    stays off: `RequestLog` writes the one line per request. Pass `log_config=None` to
    `uvicorn.Config` so uvicorn does not install its own handlers over these.
    """
    # Nothing here prints the caller's file and line or thread and process names, so records need
    # not look them up (the logging HOWTO's "Optimization" section names these switches).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = JSONLinesHandler(sys.stderr)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(level)
    # Its lines carry the query string; disabled rather than unhandled, so it stays off whatever
    # uvicorn.Config's access_log says.
    logging.getLogger("uvicorn.access").disabled = True


class JSONLinesHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs: JSON lines on a stream, with `RequestIdFilter`.

    It also writes a line straight from its fields (`log_fields`), without a `LogRecord`. While an
    event loop runs, such lines wait for the end of the loop's turn and go out together, in one write
    and one flush: one system call per turn instead of two per request (issue 16). A record emitted
    meanwhile writes the waiting lines first, so the stream keeps the order lines were logged in;
    `flush` (which `logging.shutdown` calls at exit) writes them too, so only a process killed
    within the turn loses its last lines.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.json = JSONFormatter()
        self.setFormatter(self.json)
        self.addFilter(RequestIdFilter())
        self._waiting: list[tuple[float, str, str, Mapping[str, object]]] = []

    def write_fields(self, created: float, logger: str, message: str, fields: Mapping[str, object]) -> None:
        """Write the INFO line `format` would write for a record with these parts: at the end of the
        running loop's turn, or at once when no loop runs. `fields` must not change afterwards."""
        self.acquire()
        try:
            self._waiting.append((created, logger, message, fields))
            first = len(self._waiting) == 1
        finally:
            self.release()
        if not first:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
        else:
            loop.call_soon(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        if self._waiting:
            self.flush()
        super().emit(record)

    def flush(self) -> None:
        """Write the lines waiting for the end of the loop's turn, then flush the stream."""
        self.acquire()
        try:
            waiting, self._waiting = self._waiting, []
            if waiting:
                line, end = self.json.line, self.terminator
                self.stream.write(
                    "".join(
                        [
                            line(at, "INFO", logger, message, fields) + end
                            for at, logger, message, fields in waiting
                        ]
                    )
                )
            super().flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"name": __name__, "msg": "JSON lines were lost"}))
        finally:
            self.release()


def log_fields(logger: logging.Logger, message: str, fields: Mapping[str, object]) -> None:
    """Log `message` at INFO from `logger` with the `extra` `fields`, the line every request writes.

    When every handler the record would reach is a `JSONLinesHandler` filtering with no more than
    `RequestIdFilter`, the line is written to each straight from the fields: the same line, without
    the `LogRecord`, filters and handler calls logging makes per record. Otherwise (another handler,
    as tests and embedders add) the record goes through `logger.info` as any other. `fields` must
    carry their own `request_id`.
    """
    if logger.disabled or not logger.isEnabledFor(logging.INFO):
        return
    direct = _direct_handlers(logger)
    if direct is None:
        logger.info(message, extra=dict(fields))
        return
    created = time.time()
    for handler in direct:
        handler.write_fields(created, logger.name, message, fields)


def _direct_handlers(logger: logging.Logger) -> list[JSONLinesHandler] | None:
    """The handlers an INFO record from `logger` reaches, as `Logger.callHandlers` finds them, if all
    can take a line without a record; else None."""
    if logger.filters:
        return None
    found: list[JSONLinesHandler] = []
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if handler.level > logging.INFO:
                continue
            if not isinstance(handler, JSONLinesHandler) or any(
                not isinstance(check, RequestIdFilter) for check in handler.filters
            ):
                return None
            found.append(handler)
        # Only the logging logger's own filters apply; a parent's do not, as in `callHandlers`.
        current = current.parent if current.propagate else None
    return found
