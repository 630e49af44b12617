"""SpecCheck (tests/spec_check.py): silent over the whole sandbox, loud over anything off the spec."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.spec_check import GATEWAY_STATUSES, SPEC_PATH, SpecCheck, load_spec
from tests.spec_overlay import SOURCES
from tests.tools.sandbox.conftest import Sandbox
from tools.sandbox.app import ROUTES
from tools.sandbox.data import (
    CALL_NOT_TRANSCRIBED_ID,
    CALL_PLAN_INELIGIBLE_ID,
    CALL_TRANSCRIBED_ID,
    CALL_VOICEMAIL_ID,
    CALL_VOICEMAIL_PROCESSING_ID,
    CONTACT_ELENA_ID,
    CONTACT_JORDAN_ID,
    JORDAN_NUMBER,
    MAIN_LINE_ID,
)

pytestmark = pytest.mark.anyio

# sha256 of OpenPhone's published openapi-v1.json (2025-06 build; notes §0.1).
PUBLISHED_SPEC_SHA256 = "e2615c5c0777df2071669a82fe40361900a1d25eabb1fb8371818a29afac02e7"
THREAD = {"phoneNumberId": MAIN_LINE_ID, "participants": JORDAN_NUMBER, "maxResults": "10"}
SEND = {"from": MAIN_LINE_ID, "to": [JORDAN_NUMBER], "content": "Hello"}

# (method, path, query, JSON body, expected status): every operation, its successes and its errors.
TOUR: list[tuple[str, str, dict[str, Any] | None, Any, int]] = [
    ("POST", "/v1/messages", None, SEND, 202),
    ("POST", "/v1/messages", None, {**SEND, "to": []}, 400),
    ("POST", "/v1/messages", None, {**SEND, "from": "PNelsewhere"}, 404),
    ("POST", "/v1/messages", None, {**SEND, "from": "+12025550111"}, 403),
    ("GET", "/v1/messages", THREAD, None, 200),
    ("GET", "/v1/messages", {"maxResults": "0"}, None, 400),
    ("GET", "/v1/messages/ACsandboxMsgAlpha01", None, None, 200),
    ("GET", "/v1/messages/ACnothing", None, None, 404),
    ("GET", "/v1/calls", THREAD, None, 200),
    ("GET", "/v1/calls", {**THREAD, "participants": [JORDAN_NUMBER, "+12125550147"]}, None, 400),
    ("GET", f"/v1/call-recordings/{CALL_TRANSCRIBED_ID}", None, None, 200),
    ("GET", f"/v1/call-recordings/{CALL_NOT_TRANSCRIBED_ID}", None, None, 200),
    ("GET", "/v1/call-recordings/ACnothing", None, None, 404),
    ("GET", f"/v1/call-summaries/{CALL_TRANSCRIBED_ID}", None, None, 200),
    ("GET", "/v1/call-summaries/ACsandboxCallBravo1", None, None, 200),
    ("GET", f"/v1/call-summaries/{CALL_NOT_TRANSCRIBED_ID}", None, None, 200),
    ("GET", f"/v1/call-summaries/{CALL_PLAN_INELIGIBLE_ID}", None, None, 403),
    ("GET", f"/v1/call-transcripts/{CALL_TRANSCRIBED_ID}", None, None, 200),
    ("GET", "/v1/call-transcripts/ACsandboxCallCharlie1", None, None, 200),
    ("GET", f"/v1/call-transcripts/{CALL_PLAN_INELIGIBLE_ID}", None, None, 403),
    ("GET", "/v1/call-transcripts/nothing", None, None, 400),
    ("GET", "/v1/contact-custom-fields", None, None, 200),
    ("POST", "/v1/contacts", None, {"defaultFields": {"firstName": "Ada"}, "externalId": "ada-1"}, 201),
    ("POST", "/v1/contacts", None, {"defaultFields": {"firstName": "Ada"}, "externalId": "ada-1"}, 409),
    (
        "POST",
        "/v1/contacts",
        None,
        {"defaultFields": {"firstName": "A"}, "customFields": [{"key": "x"}]},
        400,
    ),
    (
        "POST",
        "/v1/contacts",
        None,
        {"defaultFields": {"firstName": "A"}, "customFields": [{"key": "x", "value": 1}]},
        400,
    ),
    ("GET", "/v1/contacts", {"maxResults": "2"}, None, 200),
    ("GET", "/v1/contacts", {"maxResults": "2", "externalIds": "crm-1001"}, None, 200),
    ("GET", f"/v1/contacts/{CONTACT_JORDAN_ID}", None, None, 200),
    ("GET", "/v1/contacts/nobody", None, None, 404),
    (
        "PATCH",
        f"/v1/contacts/{CONTACT_JORDAN_ID}",
        None,
        {"customFields": [{"key": "deal-size", "value": 1}]},
        200,
    ),
    ("DELETE", f"/v1/contacts/{CONTACT_ELENA_ID}", None, None, 204),
    ("GET", "/v1/conversations", {"maxResults": "2"}, None, 200),
    ("GET", "/v1/conversations", {"maxResults": "2", "phoneNumbers": "nothing"}, None, 400),
    ("GET", "/v1/phone-numbers", None, None, 200),
    ("GET", "/v1/phone-numbers", {"userId": "sam"}, None, 400),
    ("GET", f"/v1/calls/{CALL_TRANSCRIBED_ID}", None, None, 200),
    ("GET", f"/v1/calls/{CALL_VOICEMAIL_PROCESSING_ID}", None, None, 200),
    ("GET", "/v1/calls/ACnothing", None, None, 404),
    ("GET", "/v1/calls/nothing", None, None, 400),
    ("GET", f"/v1/call-recordings/{CALL_PLAN_INELIGIBLE_ID}", None, None, 403),
    ("GET", f"/v1/call-voicemails/{CALL_VOICEMAIL_ID}", None, None, 200),
    ("GET", f"/v1/call-voicemails/{CALL_VOICEMAIL_PROCESSING_ID}", None, None, 200),
    ("GET", f"/v1/call-voicemails/{CALL_TRANSCRIBED_ID}", None, None, 404),
    ("GET", f"/v1/phone-numbers/{MAIN_LINE_ID}", None, None, 200),
    ("GET", "/v1/phone-numbers/PNnothing", None, None, 404),
    ("GET", "/v1/users", {"maxResults": "2"}, None, 200),
    ("GET", "/v1/users", {"maxResults": "51"}, None, 400),
    ("GET", "/v1/users/USsandboxAgent", None, None, 200),
    ("GET", "/v1/users/USnobody", None, None, 404),
]


async def test_a_tour_of_every_operation_breaks_no_rule(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """Every operation, in success and in error, validates against the spec's per-status schemas."""
    statuses = []
    for method, path, params, body, _ in TOUR:
        response = await client.request(method, path, params=params, json=body)
        statuses.append(response.status_code)
    async with httpx.AsyncClient(base_url=sandbox.url) as anonymous:
        for operation in ROUTES:
            statuses.append((await anonymous.request(operation.method, operation.path)).status_code)
    assert statuses == [expected for *_, expected in TOUR] + [401] * len(ROUTES)
    assert sandbox.check.checked == len(TOUR) + len(ROUTES)
    assert sandbox.check.violations == []


def test_the_tour_covers_every_operation() -> None:
    served = {(operation.method, operation.path.split("{")[0]) for operation in ROUTES}
    toured = {
        (method, path if path.count("/") == 2 else path.rsplit("/", 1)[0] + "/") for method, path, *_ in TOUR
    }
    assert toured == served


async def _checked(app: Starlette, method: str, path: str, **kwargs: Any) -> SpecCheck:
    """Pass one request through `SpecCheck(app)` in process and return the check."""
    check = SpecCheck(app)
    transport = httpx.ASGITransport(check)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        await http.request(method, path, headers={"Authorization": "k"}, **kwargs)
    return check


def _answering(payload: Any, status_code: int = 200) -> Starlette:
    """An app whose every route answers `payload` with `status_code`: a sandbox that went wrong."""

    async def endpoint(request: Request) -> Response:
        if payload is None:
            return Response(status_code=status_code)
        return JSONResponse(payload, status_code=status_code)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "DELETE"])])


async def test_an_off_spec_body_is_reported() -> None:
    """The checker can fail: a message without its required keys and with a foreign id is caught."""
    check = await _checked(_answering({"data": {"id": "MSG1", "text": "hi"}}), "GET", "/v1/messages/AC1")
    assert check.checked == 1
    assert len(check.response_violations) == 1
    violation = check.response_violations[0]
    assert violation.startswith("GET /v1/messages/AC1 -> 200: InvalidData: ")
    assert "$.data: 'to' is a required property" in violation
    assert "$.data.id: 'MSG1' does not match '^AC(.*)$'" in violation


@pytest.mark.parametrize(
    ("path", "data", "expected"),
    [
        pytest.param(
            "/v1/calls/AC1",
            {"id": "AC1"},
            "$.data: 'callRoute' is a required property",
            id="call-without-the-newer-fields",
        ),
        pytest.param(
            "/v1/call-voicemails/AC1",
            {"id": "VM1", "status": "done", "duration": None, "transcript": None, "recordingUrl": None},
            "$.data.status: 'done' is not one of ['completed', 'in-progress']",
            id="voicemail-status",
        ),
        pytest.param(
            "/v1/users/US1",
            {"id": "AB1", "email": "a@b.test", "firstName": None, "lastName": None, "pictureUrl": None,
             "role": "owner", "createdAt": "2026-10-01T08:00:00Z", "updatedAt": "2026-10-01T08:00:00Z"},
            "$.data.id: 'AB1' does not match '^US(.*)$'",
            id="user-id",
        ),
    ],
)  # fmt: skip
async def test_the_newer_operations_are_checked_too(path: str, data: dict[str, Any], expected: str) -> None:
    """The overlays hold the newer operations to their docs pages as strictly as the spec's own."""
    check = await _checked(_answering({"data": data}), "GET", path)
    assert check.checked == 1
    assert len(check.response_violations) == 1
    assert expected in check.response_violations[0]


async def test_a_wrong_error_code_is_reported() -> None:
    """Error bodies are held to their status's schema: a calls code on a messages 401 fails the const."""
    body = {
        "message": "no",
        "code": "0100401",
        "status": 401,
        "docs": "https://openphone.com/docs",
        "title": "x",
    }
    check = await _checked(_answering(body, 401), "GET", "/v1/messages/AC1")
    assert len(check.response_violations) == 1
    assert "$.code: '0200401' was expected" in check.response_violations[0]


@pytest.mark.parametrize("status", [418, 201])
async def test_an_undocumented_status_is_reported(status: int) -> None:
    check = await _checked(_answering({}, status), "GET", "/v1/phone-numbers")
    assert check.response_violations == [
        f"GET /v1/phone-numbers -> {status}: ResponseNotFound: Unknown response http status: {status}"
    ]


@pytest.mark.parametrize("status", sorted(GATEWAY_STATUSES))
async def test_gateway_statuses_are_allowed_on_every_operation(status: int) -> None:
    check = await _checked(_answering({"message": "busy"}, status), "GET", "/v1/phone-numbers")
    assert (check.checked, check.violations) == (1, [])


async def test_204_has_no_body() -> None:
    check = await _checked(_answering(None, 204), "DELETE", "/v1/contacts/abc")
    assert (check.checked, check.violations) == (1, [])


async def test_an_off_spec_request_answered_2xx_is_reported() -> None:
    """A 2xx to a request the spec refuses is a client bug (or a lenient sandbox): both get reported."""
    check = await _checked(
        _answering({"data": [], "totalItems": 0, "nextPageToken": None}),
        "GET",
        "/v1/messages",
        params={"x": "1"},
    )
    assert check.request_violations == [
        "GET /v1/messages?x=1 -> 200: request MissingRequiredParameter: "
        "Missing required query parameter: phoneNumberId",
        "GET /v1/messages?x=1 -> 200: request MissingRequiredParameter: "
        "Missing required query parameter: participants",
    ]  # maxResults is required but has a default (10), which openapi-core fills in
    assert check.response_violations == []


async def test_an_off_spec_json_body_answered_2xx_is_reported() -> None:
    message = {
        "id": "AC1",
        "to": ["+14155550123"],
        "from": "+14155550100",
        "text": "hi",
        "phoneNumberId": "PN1",
        "direction": "outgoing",
        "userId": "US1",
        "status": "queued",
        "createdAt": "2026-11-01T12:00:00.000Z",
        "updatedAt": "2026-11-01T12:00:00.000Z",
    }
    check = await _checked(_answering({"data": message}, 202), "POST", "/v1/messages", json={"to": "x"})
    assert check.response_violations == []
    assert len(check.request_violations) == 1
    assert check.request_violations[0].startswith("POST /v1/messages -> 202: request InvalidRequestBody: ")


async def test_unknown_routes_are_recorded_but_not_checked() -> None:
    check = await _checked(_answering({"anything": True}), "GET", "/v2/whatever")
    assert (len(check.exchanges), check.checked, check.violations) == (1, 0, [])


async def test_the_request_body_reaches_the_app_unchanged() -> None:
    received = []

    async def echo(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=204)

    app = Starlette(routes=[Route("/v1/contacts/{id}", echo, methods=["DELETE"])])
    check = await _checked(app, "DELETE", "/v1/contacts/abc", content=b"x" * 100_000)
    assert received == [b"x" * 100_000]
    assert check.exchanges[0].request_body == b"x" * 100_000


def test_the_spec_copy_is_the_published_file() -> None:
    """tests/openphone-openapi-v1.json must stay byte-identical to OpenPhone's openapi-v1.json."""
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() == PUBLISHED_SPEC_SHA256


def test_the_overlays_make_external_ids_optional_and_add_only_the_newer_operations() -> None:
    """Notes §2.10: the newer list-contacts.md says externalIds may be omitted; notes §0.2: five
    operations are known only from the newer docs pages. Nothing else changes."""
    published = json.loads(SPEC_PATH.read_bytes())
    overlaid = load_spec()
    parameters = overlaid["paths"]["/v1/contacts"]["get"]["parameters"]
    assert (parameters[0]["name"], parameters[0]["required"]) == ("externalIds", False)
    parameters[0]["required"] = True
    added = {path: overlaid["paths"].pop(path) for path in SOURCES}
    assert overlaid == published
    assert {path: list(methods) for path, methods in added.items()} == {path: ["get"] for path in SOURCES}
    assert not set(SOURCES) & set(published["paths"])
