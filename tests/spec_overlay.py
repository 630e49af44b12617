"""What the newer official docs pages document beyond openapi-v1.json, as overlays on the spec.

Each overlay comes from one docs page (notes §0.2, source tag [D]): its embedded OpenAPI fragment, a
later build of the same `openphone-public-api-v1-prod.json`, as mirrored in `DOCS_MIRROR`. The pages
are transcribed field by field, descriptions and examples left out. Where a page's schema equals one
the spec already has, the spec's is reused, so the two cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any, Final

DOCS_MIRROR: Final = "roboalchemist/llm-code-docs docs/llms-txt/openphone/"
_MIRROR_A: Final = "8d73ea0007ac5fc4722083bfea16bb139f43f3a7"
_MIRROR_B: Final = "8adde26a197f59a0dd530eaa244250604853949c"
SOURCES: Final = {
    "/v1/calls/{callId}": f"get-a-call-by-id.md @ {_MIRROR_A}",
    "/v1/call-voicemails/{callId}": f"get-a-voicemail-for-a-call.md @ {_MIRROR_B}",
    "/v1/phone-numbers/{phoneNumberId}": f"get-a-phone-number-by-id.md @ {_MIRROR_A}",
    "/v1/users": f"list-users.md @ {_MIRROR_A}",
    "/v1/users/{userId}": f"get-a-user-by-id.md @ {_MIRROR_A}",
}
"""The paths the overlays add, each with its docs page (in DOCS_MIRROR) and the mirror's commit."""

_DOCS_URL: Final = "https://openphone.com/docs"
_STATUS_TITLES: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Unknown",
}
_STATUS_DESCRIPTIONS: Final = {**_STATUS_TITLES, 500: "Unknown Error"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], *, closed: bool = False) -> dict[str, Any]:
    """An object whose every property is required, as on every page here."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(properties)}
    return {"additionalProperties": False, **schema} if closed else schema


def _error(code: str, status: int, title: str, description: str | None) -> dict[str, Any]:
    """The flat error envelope (notes §3.4) with the page's constants for one status."""
    item = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "message": {"type": "string"},
            "value": {},
            "schema": {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]},
        },
        "required": ["path", "message", "schema"],
    }
    properties: dict[str, Any] = {
        "message": {"type": "string"},
        "code": {"const": code, "type": "string"},
        "status": {"const": status, "type": "number"},
        "docs": {"const": _DOCS_URL, "type": "string"},
        "title": {"const": title, "type": "string"},
        "trace": {"type": "string"},
        "errors": {"type": "array", "items": item},
    }
    required = ["message", "code", "status", "docs", "title"]
    if description is not None:
        properties["description"] = {"const": description, "type": "string"}
        required.append("description")
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "description": description or _STATUS_DESCRIPTIONS[status],
        "content": {"application/json": {"schema": schema}},
    }


def _operation(
    operation_id: str,
    data: dict[str, Any],
    resource: str,
    *,
    path_parameter: str | None = None,
    query: tuple[dict[str, Any], ...] = (),
    named: dict[int, tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """A GET whose 200 is `data`, with the resource's error family; `named` overrides a status with
    the page's own (code, title, description)."""
    responses: dict[str, Any] = {
        "200": {"description": "Success", "content": {"application/json": {"schema": data}}}
    }
    for status, title in _STATUS_TITLES.items():
        code = f"{resource}0{1 if status == 500 else 0}{status}"
        description = None
        if named and status in named:
            code, title, description = named[status]
        responses[str(status)] = _error(code, status, title, description)
    parameters = list(query)
    if path_parameter is not None:
        parameters.insert(
            0, {"in": "path", "name": path_parameter, "required": True, "schema": {"type": "string"}}
        )
    return {
        "operationId": operation_id,
        "parameters": parameters,
        "security": [{"apiKey": []}],
        "responses": responses,
    }


def _wrapped(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"data": item}, "required": ["data"]}


_STRING: Final = {"type": "string"}
_USER: Final = _object(
    {
        "id": {"pattern": "^US(.*)$", "type": "string"},
        "email": {"format": "email", "type": "string"},
        "firstName": _nullable(_STRING),
        "lastName": _nullable(_STRING),
        "pictureUrl": _nullable({"format": "uri", "type": "string"}),
        "role": {"type": "string", "enum": ["owner", "admin", "member"]},
        "createdAt": {"format": "date-time", "type": "string"},
        "updatedAt": {"format": "date-time", "type": "string"},
    }
)
_VOICEMAIL: Final = _object(
    {
        "duration": _nullable({"type": "integer"}),
        "id": {"pattern": "^VM(.*)$", "type": "string"},
        "transcript": _nullable(_STRING),
        "recordingUrl": _nullable({"format": "uri", "type": "string"}),
        "status": {"type": "string", "enum": ["completed", "in-progress"]},
    },
    closed=True,
)
_NOT_PHONE_NUMBER_USER: Final = ("0101403", "Not Phone Number User", "Not Phone Number User")


def _call(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec's list-calls item plus the two fields the page adds (notes §2.4), all required."""
    listed = spec["paths"]["/v1/calls"]["get"]["responses"]["200"]["content"]["application/json"]
    call: dict[str, Any] = copy.deepcopy(listed["schema"]["properties"]["data"]["items"])
    for name in ("callRoute", "aiHandled"):
        call["properties"][name] = _nullable(_STRING)
        call["required"].append(name)
    return call


def _phone_number(spec: dict[str, Any]) -> dict[str, Any]:
    """The page's PhoneNumber has the spec's list item's fields, so the spec's item is used."""
    listed = spec["components"]["schemas"]["ListPhoneNumbersResponse"]
    return copy.deepcopy(listed["properties"]["data"]["items"])


def add_newer_operations(spec: dict[str, Any]) -> None:
    """Add the five GET operations of SOURCES to `spec`, in place."""
    page_size = {"in": "query", "name": "maxResults", "required": True,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}}  # fmt: skip
    page_token = {"in": "query", "name": "pageToken", "required": False, "schema": _STRING}
    user_page = {
        "type": "object",
        "properties": {
            "data": {"type": "array", "items": _USER},
            "totalItems": {"type": "integer"},
            "nextPageToken": _nullable(_STRING),
        },
        "required": ["data", "totalItems", "nextPageToken"],
    }
    too_many = ("0101400", "Too Many Participants", "Too Many Participants")
    added = {
        "/v1/calls/{callId}": _operation(
            "getCallById_v1", _wrapped(_call(spec)), "01", path_parameter="callId",
            named={400: too_many, 403: _NOT_PHONE_NUMBER_USER},
        ),
        "/v1/call-voicemails/{callId}": _operation(
            "getCallVoicemails_v1", _wrapped(_VOICEMAIL), "12", path_parameter="callId"
        ),
        "/v1/phone-numbers/{phoneNumberId}": _operation(
            "getPhoneNumberById_v1", _wrapped(_phone_number(spec)), "04", path_parameter="phoneNumberId"
        ),
        "/v1/users": _operation("listUsers_v1", user_page, "11", query=(page_size, page_token)),
        "/v1/users/{userId}": _operation("getUserById_v1", _wrapped(_USER), "11", path_parameter="userId"),
    }  # fmt: skip
    for path, operation in added.items():
        spec["paths"][path] = {"get": operation}
