"""OpenPhone's error bodies, per operation family, exactly as openapi-v1.json documents them.

SandboxError            an error answered as OpenPhone answers it; `status` picks the documented body
├── InvalidRequest      400: the request breaks a validation rule; `errors` lists each broken rule
├── Unauthorized        401: the Authorization header is missing or is not the sandbox key
├── Forbidden           403: the workspace may not do this (not a user of the number, plan not eligible)
├── NotFound            404: the id names nothing in the workspace
├── Conflict            409: a contact with this externalId exists already
└── RateLimited         429: more requests in the last second than `faults.rate_limit` allows

Every body is the flat envelope `{message, code, status, docs, title, trace, errors?, description?}`
(notes §3.4). The spec fixes `code`, `title` and sometimes `description` per operation and status,
so a validation error on a message operation is titled "A2P Registration Not Approved" (0206400) and
one on a contact operation "Invalid Custom Field Item" (0801400): that is what the spec allows.
Statuses the spec does not document for an operation (429, 502, 503, ...) get the same envelope with
code `<resource>00<status>` and the HTTP reason phrase as title.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Final

DOCS_URL: Final = "https://openphone.com/docs"
NOT_PHONE_NUMBER_USER: Final = "Not Phone Number User"


@dataclass(frozen=True)
class ErrorKind:
    """One documented error: its 7-digit code, title, optional `description` const and default message."""

    code: str
    title: str
    message: str
    description: str | None = None


@dataclass(frozen=True)
class Family:
    """The error catalogue shared by a group of operations (notes §3.4: 2-digit resource number)."""

    resource: str
    kinds: Mapping[int, ErrorKind] = field(default_factory=dict)

    def kind(self, status: int) -> ErrorKind:
        """The documented kind for `status`, or a generic one for a status the spec leaves out."""
        documented = self.kinds.get(status)
        if documented is not None:
            return documented
        phrase = HTTPStatus(status).phrase
        return ErrorKind(f"{self.resource}00{status}", phrase, phrase)


def _family(resource: str, overrides: Mapping[int, ErrorKind] = MappingProxyType({})) -> Family:
    """The common pattern (Bad Request, Unauthorized, Forbidden, Not Found, Unknown) plus `overrides`."""
    kinds = {
        400: ErrorKind(f"{resource}00400", "Bad Request", "The request is invalid"),
        401: ErrorKind(f"{resource}00401", "Unauthorized", "Unauthorized"),
        403: ErrorKind(f"{resource}00403", "Forbidden", "Forbidden"),
        404: ErrorKind(f"{resource}00404", "Not Found", "Not found"),
        500: ErrorKind(f"{resource}01500", "Unknown", "An unknown error occurred"),
    }
    kinds.update(overrides)
    return Family(resource, MappingProxyType(kinds))


def _not_phone_number_user(
    code: str, message: str = "You are forbidden to access this resource"
) -> ErrorKind:
    return ErrorKind(code, NOT_PHONE_NUMBER_USER, message, NOT_PHONE_NUMBER_USER)


CALL_ERRORS: Final = _family("01", {403: _not_phone_number_user("0101403")})
# getCallById_v1 (docs page get-a-call-by-id.md, notes §2.5) documents its 400 as "Too Many Participants".
GET_CALL_ERRORS: Final = _family(
    "01",
    {
        400: ErrorKind("0101400", "Too Many Participants", "The request is invalid", "Too Many Participants"),
        403: _not_phone_number_user("0101403"),
    },
)
MESSAGE_ERRORS: Final = _family(
    "02",
    {
        400: ErrorKind(
            "0206400",
            "A2P Registration Not Approved",
            "The organization is not approved for A2P",
            "A2P Registration Not Approved",
        ),
        402: ErrorKind(
            "0200402",
            "Not Enough Credits",
            "The organization does not have enough prepaid credits to send the message",
            "The organization does not have enough prepaid credits to send the message",
        ),
        403: _not_phone_number_user("0202403", "You are forbidden to access the message"),
        404: ErrorKind("0200404", "Not Found", "Message not found"),
    },
)
PHONE_NUMBER_ERRORS: Final = _family("04")
SUMMARY_ERRORS: Final = _family("05")
TRANSCRIPT_ERRORS: Final = _family("06")
CUSTOM_FIELD_ERRORS: Final = _family("07")
CONTACT_ERRORS: Final = _family(
    "08",
    {
        400: ErrorKind(
            "0801400", "Invalid Custom Field Item", "The request is invalid", "Invalid Custom Field Item"
        ),
        403: _not_phone_number_user("0801403"),
        404: ErrorKind("0800404", "Not Found", "Contact not found"),
        409: ErrorKind("0800409", "Conflict", "Conflict"),
    },
)
RECORDING_ERRORS: Final = _family("09")
CONVERSATION_ERRORS: Final = _family("10", {403: _not_phone_number_user("1001403")})
USER_ERRORS: Final = _family("11")
VOICEMAIL_ERRORS: Final = _family("12")


class SandboxError(Exception):
    """Raised by a handler or a fault for any error; rendered with the operation's documented body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        super().__init__(message or HTTPStatus(status).phrase)
        self.status = status
        self.message = message
        self.errors = tuple(errors)
        self.headers = headers


class InvalidRequest(SandboxError):
    """Raised when a parameter or body field breaks one of the spec's rules (or the notes' §4.4 rules)."""

    def __init__(self, message: str, errors: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(400, message, errors)


class Unauthorized(SandboxError):
    """Raised when the Authorization header is missing or is not exactly the sandbox key."""

    def __init__(self, message: str) -> None:
        super().__init__(401, message)


class Forbidden(SandboxError):
    """Raised when the workspace may not use a number, user or plan feature."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class NotFound(SandboxError):
    """Raised when an id names nothing the workspace has."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(404, message)


class Conflict(SandboxError):
    """Raised when a contact is created with an externalId another contact already has."""

    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class RateLimited(SandboxError):
    """Raised when a key sends more requests in one second than the rate-limit knob allows (notes §3.2)."""

    def __init__(self) -> None:
        super().__init__(429, "API rate limit exceeded", headers={"Retry-After": "1"})


def error_body(family: Family, error: SandboxError, trace: str) -> dict[str, Any]:
    """The flat documented envelope for `error` on an operation of `family`; never carries a key."""
    kind = family.kind(error.status)
    body: dict[str, Any] = {
        "message": error.message or kind.message,
        "code": kind.code,
        "status": error.status,
        "docs": DOCS_URL,
        "title": kind.title,
        "trace": trace,
    }
    if error.errors:
        body["errors"] = [dict(item) for item in error.errors]
    if kind.description is not None:
        body["description"] = kind.description
    return body
