"""Turn every upstream failure into one `OpenPhoneError` with a sentence a person can act on.

OpenPhone answers errors in two shapes (openphone-api-notes.md §3.4): the documented flat body
`{message, code, status, docs, title, trace, errors[]}`, and the live gateway's
`{"error": {message, key, trace}}`; unknown routes get an HTML page. Everything here is pure: it
reads a status and the body bytes, and never copies a header, the key, or an `errors[].value`
(which would echo what the caller sent, such as a message body) into the sentence.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

import orjson

from tools.errors import OpenPhoneError

_MAX_DETAIL: Final = 300
_MAX_FIELDS: Final = 5
# Control, format (bidi overrides), and line/paragraph separator characters never reach a sentence.
_UNPRINTABLE: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
_MAYBE_SENT: Final = (
    " It may still have taken effect: check (for a message, with fetch-messages) before trying again."
)

_RATE_LIMITED: Final = (
    "OpenPhone's rate limit (10 requests per second per key) was still exceeded after retrying"
)
# Per status: what happened, and what to do about it (openphone-api-notes.md §3.4, the error-codes page).
_BY_STATUS: Final[Mapping[int, tuple[str, str]]] = {
    400: ("OpenPhone rejected the request as invalid", ""),
    401: (
        "OpenPhone rejected the API key",
        "Check that the key is current (OpenPhone: Settings > API), or reconnect with a new one.",
    ),
    402: (
        "OpenPhone refused for billing reasons",
        "The workspace needs prepaid credits or an active plan: add credits in OpenPhone's billing "
        "settings, then try again.",
    ),
    403: (
        "OpenPhone refused access",
        "The number may not belong to this key's workspace or user, or a plan or account setting (such "
        "as international messaging or call transcripts) is not enabled.",
    ),
    404: ("OpenPhone found nothing with that id", "Check the id, or list the items to find the right one."),
    409: ("OpenPhone reported a conflict with the current state", "For example, a duplicate external id."),
    422: ("OpenPhone could not process the request", ""),
    429: (_RATE_LIMITED, "Wait a few seconds and try again."),
}
# Statuses whose body message adds nothing a person could use.
_NO_DETAIL: Final = frozenset({401, 429})


def error_from_response(status: int, body: bytes, *, secret: str, write: bool) -> OpenPhoneError:
    """The error for a non-2xx answer from OpenPhone, from either body shape or none.

    It reads: what happened, OpenPhone's own message, the failing fields, what to do, the trace id.
    """
    fields = _fields(_decode(body))
    detail = _clean(fields.get("message"), secret)
    code = _clean(fields.get("code"), secret) or None
    trace = _clean(fields.get("trace"), secret) or None
    may_have_happened = status >= 500 and write
    if status in _BY_STATUS:
        headline, advice = _BY_STATUS[status]
    elif status >= 500:
        headline = f"OpenPhone had a server error (HTTP {status})"
        advice = _MAYBE_SENT.strip() if may_have_happened else "Try again in a minute."
    else:
        headline, advice = f"OpenPhone answered HTTP {status}", ""
    parts = [headline + (f": {detail}" if detail and status not in _NO_DETAIL else "") + "."]
    problems = _field_problems(fields.get("errors"), secret)
    if problems:
        parts.append("Problems: " + "; ".join(problems) + ".")
    if advice:
        parts.append(advice)
    if trace:
        parts.append(f"(OpenPhone trace {trace})")
    return OpenPhoneError(
        " ".join(parts), status=status, code=code, trace=trace, may_have_happened=may_have_happened
    )


def rate_limited_error(retry_after: float | None) -> OpenPhoneError:
    """The error for a 429 that retries did not clear."""
    wait = f" Wait about {max(1, round(retry_after))} s and try again." if retry_after else ""
    return OpenPhoneError(_RATE_LIMITED + "." + wait, status=429, retry_after=retry_after)


def key_queue_full_error(retry_after: float) -> OpenPhoneError:
    """The error for a call not sent: its key's calls already wait as long as the pacer lets them."""
    return OpenPhoneError(
        "Too many calls with this key are waiting for their turn under OpenPhone's per-key rate limit. "
        f"Wait about {max(1, round(retry_after))} s and try again.",
        status=429,
        retry_after=retry_after,
    )


def server_queue_full_error() -> OpenPhoneError:
    """The error for a call not sent: this server already holds as many paced calls as it may."""
    return OpenPhoneError(
        "This server has too many calls waiting for OpenPhone right now. Wait about 1 s and try again.",
        status=503,
        retry_after=1.0,
    )


def timeout_error(seconds: float, *, write: bool, sent: bool) -> OpenPhoneError:
    """The error for a request OpenPhone did not answer in time."""
    message = f"OpenPhone did not answer within {seconds:g} s."
    if write and sent:
        message += _MAYBE_SENT
    else:
        message += " Try again in a minute."
    return OpenPhoneError(message, may_have_happened=write and sent)


def connection_error(*, write: bool, sent: bool) -> OpenPhoneError:
    """The error for a transport failure: no connection, or a connection lost mid-request."""
    if not sent:
        return OpenPhoneError("Could not connect to OpenPhone; nothing was sent. Try again in a minute.")
    message = "The connection to OpenPhone was lost before it answered."
    message += _MAYBE_SENT if write else " Try again in a minute."
    return OpenPhoneError(message, may_have_happened=write)


def malformed_error(status: int, *, write: bool = False) -> OpenPhoneError:
    """The error for a success status whose body is not the JSON OpenPhone documents."""
    message = f"OpenPhone answered HTTP {status} with a body that is not the JSON it documents."
    if write:
        return OpenPhoneError(message + _MAYBE_SENT, status=status, may_have_happened=True)
    message += " Try again; if it persists, OpenPhone may be having problems."
    return OpenPhoneError(message, status=status)


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _fields(payload: Any) -> dict[str, Any]:
    """The error's own fields: `payload["error"]` for the live shape, else the flat body."""
    if not isinstance(payload, dict):
        return {}
    nested = payload.get("error")
    return nested if isinstance(nested, dict) else payload


def _field_problems(errors: Any, secret: str) -> list[str]:
    """`path: message` (validation errors) or `key: reason` (custom-field errors), never the values."""
    if not isinstance(errors, list):
        return []
    problems = []
    for item in errors[:_MAX_FIELDS]:
        if not isinstance(item, dict):
            continue
        where = _clean(item.get("path", item.get("key")), secret)
        what = _clean(item.get("message", item.get("reason")), secret)
        if what:
            problems.append(f"{where}: {what}" if where else what)
    return problems


def _printable(text: str) -> str:
    return "".join(" " if unicodedata.category(char) in _UNPRINTABLE else char for char in text)


def _clean(value: Any, secret: str) -> str:
    """A short single-line string from an upstream field, with the caller's key cut out if echoed."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    text = " ".join(_printable(str(value)).split())
    if secret:
        text = _copies_of(secret).sub("[redacted]", text)
    return text[:_MAX_DETAIL]


def _copies_of(secret: str) -> re.Pattern[str]:
    """The key as an echo may carry it: in any letter case, or base64-encoded (alone, or as a Basic
    credential's user name), padded or not. The result can reach a third-party client or model."""
    raw = secret.encode()
    encoded = [
        encode(value).decode().rstrip("=")
        for value in (raw, raw + b":")
        for encode in (base64.b64encode, base64.urlsafe_b64encode)
    ]
    forms = sorted({secret, *encoded}, key=len, reverse=True)
    return re.compile("|".join(f"{re.escape(form)}=*" for form in forms), re.IGNORECASE)
