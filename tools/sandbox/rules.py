"""The request rules of openapi-v1.json and notes §4.4, as pure functions over query strings and bodies.

Every broken rule becomes one documented `errors[]` item `{path, message, value?, schema: {type}}`
(notes §3.4), and all of a request's items are raised together as one InvalidRequest. Patterns are the
spec's, read as JavaScript reads them (ASCII digits, `$` only at the very end). Two choices are
stricter than the spec, so that the sandbox never accepts what the live API may refuse: a JSON body
with a key the spec does not define is refused, and so is a scalar query parameter given twice.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails, PydanticCustomError
from starlette.datastructures import QueryParams

from tools.sandbox.data import CUSTOM_FIELD_IDS, CUSTOM_FIELDS, Record, custom_field_value
from tools.sandbox.errors import InvalidRequest

# The spec's patterns (shown to clients) and ours: the same, as JavaScript reads them.
E164_SPEC: Final = r"'^\+[1-9]\d{1,14}$'"
E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
PN_ID_SPEC: Final = "'^PN(.*)$'"
PN_ID: Final = re.compile(r"PN.*")
US_ID_SPEC: Final = "'^US(.*)$'"
US_ID: Final = re.compile(r"US.*")
AC_ID_SPEC: Final = "'^AC(.*)$'"
AC_ID: Final = re.compile(r"AC.*")
INBOX_REF_SPEC: Final = f"{E164_SPEC} or {PN_ID_SPEC}"
INBOX_REF: Final = re.compile(f"{E164.pattern}|{PN_ID.pattern}")
RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_INTEGER: Final = re.compile(r"-?[0-9]+")
_PAGE_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PAGE_POSITION: Final = re.compile(r"[0-9]{1,9}")
_JSON_SCALARS: Final = (str, int, float, bool, type(None))

ErrorItem = dict[str, Any]
ModelT = TypeVar("ModelT", bound=BaseModel)


class _NoValue:
    """The type of NO_VALUE: an error item without `value` differs from one whose value is null."""


NO_VALUE: Final = _NoValue()


def error_item(path: str, message: str, schema_type: str, value: Any = NO_VALUE) -> ErrorItem:
    """One documented `errors[]` item."""
    item: ErrorItem = {"path": path, "message": message}
    if value is not NO_VALUE:
        item["value"] = value
    item["schema"] = {"type": schema_type}
    return item


def summarize(errors: Sequence[Mapping[str, Any]]) -> str:
    """A one-line `message` naming each broken rule (values are never repeated in it)."""
    parts = [f"{str(item['path']).lstrip('/') or 'body'}: {item['message']}" for item in errors[:3]]
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "Invalid request: " + "; ".join(parts) + more


def path_id(value: str, name: str, pattern: re.Pattern[str], spec: str) -> str:
    """A path parameter that must match the spec's `pattern`; raises InvalidRequest naming it."""
    if not pattern.fullmatch(value):
        errors = [error_item(f"/{name}", f"Expected string to match {spec}", "string", value)]
        raise InvalidRequest(summarize(errors), errors)
    return value


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 date-time (the spec's `format: date-time`), or None if `text` is not one."""
    if not RFC3339.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def encode_page_token(resource: str, offset: int) -> str:
    """An opaque `nextPageToken` for the list `resource`, resuming at `offset` (notes §3.3)."""
    return base64.urlsafe_b64encode(f"{resource}:{offset}".encode()).decode().rstrip("=")


def decode_page_token(resource: str, token: str) -> int | None:
    """The offset a token from `encode_page_token(resource, …)` holds, or None for any other string."""
    if not _PAGE_TOKEN.fullmatch(token):
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    prefix, _, position = text.partition(":")
    return int(position) if prefix == resource and _PAGE_POSITION.fullmatch(position) else None


class QueryReader:
    """Reads one request's query parameters by the spec's rules, collecting every broken rule.

    Array parameters accept both `name=a&name=b` (the spec's form/explode default) and `name[]=a`
    (notes §3.7). Call `finish()` after reading: it raises InvalidRequest if any rule was broken.
    """

    def __init__(self, params: QueryParams) -> None:
        self._params = params
        self.errors: list[ErrorItem] = []

    def finish(self) -> None:
        if self.errors:
            raise InvalidRequest(summarize(self.errors), self.errors)

    def _fail(self, path: str, message: str, schema_type: str, value: Any = NO_VALUE) -> None:
        self.errors.append(error_item(f"/{path}", message, schema_type, value))

    def _single(self, name: str, schema_type: str, *, required: bool = False) -> str | None:
        values = self._params.getlist(name)
        if not values and required:
            self._fail(name, "Expected required property", schema_type)
        elif len(values) > 1:
            self._fail(name, f"Expected a single {schema_type}, not a repeated parameter", schema_type)
        return values[0] if len(values) == 1 else None

    def _array(self, name: str, *, required: bool, max_items: int | None) -> list[str]:
        values = self._params.getlist(name) + self._params.getlist(f"{name}[]")
        if not values and required:
            self._fail(name, "Expected required property", "array")
        if max_items is not None and len(values) > max_items:
            self._fail(name, f"Expected array length to be less or equal to {max_items}", "array")
        return values

    def optional(self, name: str, pattern: re.Pattern[str], spec: str) -> str | None:
        """A string parameter that must match `pattern` (named to the client as the spec's `spec`)."""
        return self._matching(name, pattern, spec, required=False) or None

    def required(self, name: str, pattern: re.Pattern[str], spec: str) -> str:
        """Like `optional`, but absence is an error too; "" stands in until `finish()` raises."""
        return self._matching(name, pattern, spec, required=True)

    def _matching(self, name: str, pattern: re.Pattern[str], spec: str, *, required: bool) -> str:
        value = self._single(name, "string", required=required)
        if value is not None and not pattern.fullmatch(value):
            self._fail(name, f"Expected string to match {spec}", "string", value)
            return ""
        return value or ""

    def numbers(self, name: str, *, required: bool, max_items: int | None = None) -> list[str]:
        """An array of E.164 numbers (`participants`: notes §3.6)."""
        values = self._array(name, required=required, max_items=max_items)
        for index, value in enumerate(values):
            if not E164.fullmatch(value):
                self._fail(f"{name}/{index}", f"Expected string to match {E164_SPEC}", "string", value)
        return values

    def inbox_refs(self, name: str) -> list[str]:
        """An array of 1-100 workspace numbers, each a PN id or E.164 (`phoneNumbers`: notes §2.11)."""
        values = self._array(name, required=False, max_items=100)
        for index, value in enumerate(values):
            if not INBOX_REF.fullmatch(value):
                self._fail(f"{name}/{index}", f"Expected string to match {INBOX_REF_SPEC}", "string", value)
        return values

    def strings(self, name: str, max_length: int) -> list[str]:
        """An array of strings of 1 to `max_length` characters (`externalIds`, `sources`)."""
        values = self._array(name, required=False, max_items=None)
        for index, value in enumerate(values):
            if not 1 <= len(value) <= max_length:
                message = f"Expected string length between 1 and {max_length}"
                self._fail(f"{name}/{index}", message, "string", value)
        return values

    def max_results(self, maximum: int) -> int:
        """`maxResults`: required, an integer from 1 to `maximum` (notes §3.3)."""
        raw = self._single("maxResults", "integer", required=True)
        if raw is None:
            return 1
        value = int(raw) if _INTEGER.fullmatch(raw) and len(raw) <= 12 else None
        if value is None:
            self._fail("maxResults", "Expected integer", "integer", raw)
        elif not 1 <= value <= maximum:
            self._fail("maxResults", f"Expected integer between 1 and {maximum}", "integer", value)
        return value or 1

    def date_time(self, name: str) -> datetime | None:
        raw = self._single(name, "string")
        moment = parse_timestamp(raw) if raw is not None else None
        if raw is not None and moment is None:
            self._fail(name, "Expected string to match 'date-time' format", "string", raw)
        return moment

    def boolean(self, name: str) -> bool | None:
        raw = self._single(name, "boolean")
        if raw is not None and raw not in ("true", "false"):
            self._fail(name, "Expected boolean", "boolean", raw)
            return None
        return None if raw is None else raw == "true"

    def page_offset(self, resource: str) -> int:
        """Where `pageToken` resumes the list `resource`: 0 without one; a foreign token is refused."""
        token = self._single("pageToken", "string")
        offset = decode_page_token(resource, token) if token is not None else 0
        if offset is None:
            self._fail("pageToken", "Expected a nextPageToken returned by this endpoint", "string")
            return 0
        return offset


def read_json_body(
    model: type[ModelT], body: bytes, content_type: str | None, redact: frozenset[str] = frozenset()
) -> ModelT:
    """`body` validated as `model`; raises InvalidRequest listing every broken rule.

    Values of the top-level fields in `redact` (a message's `content`) are never repeated in errors.
    """
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        error = error_item("", "Expected Content-Type application/json", "object")
        raise InvalidRequest("Invalid request: expected a JSON body", [error])
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [_body_error(detail, redact) for detail in exc.errors(include_url=False)]
        raise InvalidRequest(summarize(errors), errors) from None


_SCHEMA_TYPES: Final = (
    ("string", "string"),
    ("literal", "string"),
    ("int", "integer"),
    ("float", "number"),
    ("bool", "boolean"),
    ("list", "array"),
    ("too_", "array"),
)


def _body_error(detail: ErrorDetails, redact: frozenset[str]) -> ErrorItem:
    """A pydantic error as a documented item; shape errors (missing, unknown key) name the object."""
    location = detail["loc"]
    schema_type = next(
        (kind for prefix, kind in _SCHEMA_TYPES if detail["type"].startswith(prefix)), "object"
    )
    value = detail["input"]
    is_echoable = isinstance(value, _JSON_SCALARS) and detail["type"] not in ("missing", "json_invalid")
    if not is_echoable or (location and location[0] in redact):
        value = NO_VALUE
    path = "".join(f"/{part}" for part in location)
    return error_item(path, detail["msg"], schema_type, value)


def _not_null(value: Any) -> Any:
    """For optional fields the spec types as plain strings: absent is fine, null is not."""
    if value is None:
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value


def _is_none(value: Any) -> bool:
    return value is None


def _inbox_ref(value: str) -> str:
    if not (PN_ID.fullmatch(value) or E164.fullmatch(value)):
        raise PydanticCustomError("string_pattern_mismatch", "String should be a PN id or an E.164 number")
    return value


def _length_between(low: int, high: int) -> StringConstraints:
    return StringConstraints(min_length=low, max_length=high)


E164Number = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{1,14}$")]
UserId = Annotated[str | None, BeforeValidator(_not_null), StringConstraints(pattern=r"^US.*$")]
PhoneNumberId = Annotated[str | None, BeforeValidator(_not_null), StringConstraints(pattern=r"^PN.*$")]
NullableText = Annotated[str | None, _length_between(1, 75)]
Uri = Annotated[str, _length_between(1, 200), StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")]


class WireModel(BaseModel):
    """A request body: camelCase on the wire, strict JSON types, unknown keys refused; built when a
    request first needs it, not when `serve --sandbox` starts."""

    model_config = ConfigDict(
        extra="forbid", strict=True, alias_generator=to_camel, frozen=True, defer_build=True
    )


class SendMessageBody(WireModel):
    """`POST /v1/messages` (notes §2.1)."""

    content: Annotated[str, StringConstraints(min_length=1, max_length=1600, pattern=r".*\S.*")]
    from_: Annotated[str, Field(alias="from"), AfterValidator(_inbox_ref)]
    to: Annotated[list[E164Number], Field(min_length=1, max_length=1)]
    user_id: UserId = None
    set_inbox_status: Annotated[Literal["done"] | None, BeforeValidator(_not_null)] = None
    phone_number_id: PhoneNumberId = None  # deprecated in favour of `from`; accepted and ignored


class LabelledValue(WireModel):
    """An email address or phone number of a contact."""

    name: str
    value: str | None
    id: Annotated[str | None, BeforeValidator(_not_null), Field(exclude_if=_is_none)] = None


class DefaultFields(WireModel):
    """A contact's standard fields; on create `firstName` is required (it may be null)."""

    first_name: str | None
    last_name: str | None = None
    company: str | None = None
    role: str | None = None
    emails: list[LabelledValue] = []
    phone_numbers: list[LabelledValue] = []


class DefaultFieldsPatch(DefaultFields):
    """A contact's standard fields on update: all optional, and only those sent change."""

    first_name: str | None = None


class CustomFieldValue(WireModel):
    """A value for one custom field, named by its `key` (or, on update, the field's `id`)."""

    key: Annotated[str | None, BeforeValidator(_not_null)] = None
    id: Annotated[str | None, BeforeValidator(_not_null)] = None
    value: JsonValue


class CreateContactBody(WireModel):
    """`POST /v1/contacts` (notes §2.10)."""

    default_fields: DefaultFields
    custom_fields: list[CustomFieldValue] = []
    created_by_user_id: UserId = None
    source: Annotated[str, _length_between(1, 72)] = "public-api"
    source_url: Annotated[Uri | None, BeforeValidator(_not_null)] = None
    external_id: NullableText = None


class UpdateContactBody(WireModel):
    """`PATCH /v1/contacts/{id}`: every field optional; only the fields sent change."""

    default_fields: DefaultFieldsPatch = Field(default_factory=DefaultFieldsPatch)
    custom_fields: list[CustomFieldValue] = []
    source: NullableText = None
    source_url: Uri | None = None
    external_id: NullableText = None


UNKNOWN_CUSTOM_FIELD: Final = "Did not match any known contact custom field"
_FIELD_TYPES: Final = {"multi-select": "array", "boolean": "boolean", "number": "number"}


def _fits(field_type: str, value: JsonValue) -> bool:
    """Whether `value` suits a custom field of `field_type` (null clears any field)."""
    if value is None:
        return True
    if field_type == "multi-select":
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if field_type == "boolean":
        return isinstance(value, bool)
    if field_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if field_type == "date":
        return isinstance(value, str) and parse_timestamp(value) is not None
    return isinstance(value, str)


def resolve_custom_fields(items: Sequence[CustomFieldValue]) -> list[Record]:
    """Each item as the Contact object's custom field, by key or id; raises InvalidRequest (0801400 on
    contacts) for a key matching no custom field or a value of the wrong type (notes §2.10).

    The spec requires `path`, `message` and `schema` in each item; the older spec's `{key, reason}`
    are added to unknown-key items so that clients reading either shape find what they expect.
    """
    keys_by_id = {field_id: key for key, field_id in CUSTOM_FIELD_IDS.items()}
    types = {field["key"]: field["type"] for field in CUSTOM_FIELDS}
    errors: list[ErrorItem] = []
    resolved: dict[str, Record] = {}
    for index, item in enumerate(items):
        key = item.key if item.key is not None else keys_by_id.get(item.id or "")
        if key is None or key not in types:
            shown = item.key if item.key is not None else item.id
            error = error_item(f"/customFields/{index}/key", UNKNOWN_CUSTOM_FIELD, "string", shown)
            errors.append({**error, "key": shown, "reason": UNKNOWN_CUSTOM_FIELD})
        elif not _fits(types[key], item.value):
            expected = _FIELD_TYPES.get(types[key], "string")
            message = f"Expected {expected} for a {types[key]} custom field"
            errors.append(error_item(f"/customFields/{index}/value", message, expected))
        else:
            resolved[key] = custom_field_value(key, item.value)
    if errors:
        raise InvalidRequest(summarize(errors), errors)
    return list(resolved.values())
