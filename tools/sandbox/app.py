"""The sandbox's routes: OpenPhone v1 as openapi-v1.json defines it, with auth, rate limit and faults.

Each request is recorded and delayed by `faults.latency` first (`_Intake`). An unknown route then gets
Express's 404 HTML page (notes §3.4). A known route checks the key (401), then the rate limit (429),
then takes a planned fault, and only then runs the operation. Every error is rendered with the
operation's documented body (errors.py).
"""

from __future__ import annotations

import hmac
import html
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tools.sandbox import newer
from tools.sandbox import state as workspace
from tools.sandbox.data import CUSTOM_FIELDS
from tools.sandbox.errors import (
    CALL_ERRORS,
    CONTACT_ERRORS,
    CONVERSATION_ERRORS,
    CUSTOM_FIELD_ERRORS,
    GET_CALL_ERRORS,
    MESSAGE_ERRORS,
    PHONE_NUMBER_ERRORS,
    RECORDING_ERRORS,
    SUMMARY_ERRORS,
    TRANSCRIPT_ERRORS,
    USER_ERRORS,
    VOICEMAIL_ERRORS,
    Family,
    RateLimited,
    SandboxError,
    Unauthorized,
    error_body,
)
from tools.sandbox.faults import Fault, FaultKind
from tools.sandbox.rules import (
    AC_ID,
    AC_ID_SPEC,
    INBOX_REF,
    INBOX_REF_SPEC,
    PN_ID,
    PN_ID_SPEC,
    US_ID,
    US_ID_SPEC,
    CreateContactBody,
    QueryReader,
    SendMessageBody,
    UpdateContactBody,
    path_id,
    read_json_body,
)
from tools.sandbox.state import ActivityFilter, ConversationFilter, SandboxState, Window

SANDBOX_API_KEY: Final = "sandbox-demo-key"
MALFORMED_BODY: Final = b'{"data":{"id":"AC'
_EXPRESS_404: Final = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n'
    "<body>\n<pre>{}</pre>\n</body>\n</html>\n"
)

Handler = Callable[[Request, SandboxState], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    """One route of the spec: its method, path template, error family and handler."""

    method: str
    path: str
    family: Family
    handler: Handler


def _json(payload: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status_code)


def _ac_path_id(request: Request, name: str) -> str:
    """A path id the spec patterns `^AC(.*)$` (messages and calls share the AC prefix, notes §3.5)."""
    return path_id(str(request.path_params[name]), name, AC_ID, AC_ID_SPEC)


def _window(query: QueryReader, prefix: str) -> Window:
    return query.date_time(f"{prefix}After"), query.date_time(f"{prefix}Before")


def _created_window(query: QueryReader) -> Window:
    """createdAfter/createdBefore; deprecated `since` "currently behaves as createdBefore" (notes §2.2)."""
    after, before = _window(query, "created")
    since = query.date_time("since")
    return after, before or since


async def _send_message(request: Request, state: SandboxState) -> Response:
    body = read_json_body(
        SendMessageBody, await request.body(), request.headers.get("content-type"), frozenset({"content"})
    )
    return _json({"data": workspace.send_message(state, body)}, 202)


async def _list_messages(request: Request, state: SandboxState) -> Response:
    wanted, offset, max_results = _activity_query(request, "messages", max_participants=None)
    return _json(
        workspace.paginate(workspace.select_messages(state, wanted), offset, max_results, "messages")
    )


async def _get_message(request: Request, state: SandboxState) -> Response:
    return _json({"data": workspace.require_message(state, _ac_path_id(request, "id"))})


async def _list_calls(request: Request, state: SandboxState) -> Response:
    wanted, offset, max_results = _activity_query(request, "calls", max_participants=1)  # 1:1 only (§2.4)
    return _json(workspace.paginate(workspace.select_calls(state, wanted), offset, max_results, "calls"))


def _activity_query(
    request: Request, resource: str, max_participants: int | None
) -> tuple[ActivityFilter, int, int]:
    """The query list messages and list calls share: filter, page offset and page size."""
    query = QueryReader(request.query_params)
    wanted = ActivityFilter(
        phone_number_id=query.required("phoneNumberId", PN_ID, PN_ID_SPEC),
        participants=tuple(query.numbers("participants", required=True, max_items=max_participants)),
        created=_created_window(query),
        user_id=query.optional("userId", US_ID, US_ID_SPEC),
    )
    max_results = query.max_results(100)
    offset = query.page_offset(resource)
    query.finish()
    return wanted, offset, max_results


async def _get_call_recordings(request: Request, state: SandboxState) -> Response:
    return _json({"data": workspace.call_recordings(state, _ac_path_id(request, "callId"))})


async def _get_call_summary(request: Request, state: SandboxState) -> Response:
    return _json({"data": workspace.call_summary(state, _ac_path_id(request, "callId"))})


async def _get_call_transcript(request: Request, state: SandboxState) -> Response:
    return _json({"data": workspace.call_transcript(state, _ac_path_id(request, "id"))})


async def _list_custom_fields(request: Request, state: SandboxState) -> Response:
    return _json({"data": list(CUSTOM_FIELDS)})


async def _create_contact(request: Request, state: SandboxState) -> Response:
    body = read_json_body(CreateContactBody, await request.body(), request.headers.get("content-type"))
    return _json({"data": workspace.create_contact(state, body)}, 201)


async def _list_contacts(request: Request, state: SandboxState) -> Response:
    """`externalIds` is optional, as the newer docs say (notes §2.10), although the spec requires it."""
    query = QueryReader(request.query_params)
    external_ids = query.strings("externalIds", 75)
    sources = query.strings("sources", 75)
    max_results = query.max_results(50)
    offset = query.page_offset("contacts")
    query.finish()
    contacts = workspace.select_contacts(state, external_ids, sources)
    return _json(workspace.paginate(contacts, offset, max_results, "contacts"))


async def _get_contact(request: Request, state: SandboxState) -> Response:
    return _json({"data": workspace.require_contact(state, request.path_params["id"])})


async def _update_contact(request: Request, state: SandboxState) -> Response:
    body = read_json_body(UpdateContactBody, await request.body(), request.headers.get("content-type"))
    return _json({"data": workspace.update_contact(state, request.path_params["id"], body)})


async def _delete_contact(request: Request, state: SandboxState) -> Response:
    workspace.delete_contact(state, request.path_params["id"])
    return Response(status_code=204)


async def _list_conversations(request: Request, state: SandboxState) -> Response:
    query = QueryReader(request.query_params)
    inbox_refs = query.inbox_refs("phoneNumbers")
    legacy_ref = query.optional("phoneNumber", INBOX_REF, INBOX_REF_SPEC)  # deprecated; phoneNumbers wins
    wanted = ConversationFilter(
        inbox_refs=tuple(inbox_refs) or ((legacy_ref,) if legacy_ref else None),
        user_id=query.optional("userId", US_ID, US_ID_SPEC),
        created=_window(query, "created"),
        updated=_window(query, "updated"),
        exclude_inactive=bool(query.boolean("excludeInactive")),
    )
    max_results = query.max_results(100)
    offset = query.page_offset("conversations")
    query.finish()
    conversations = workspace.select_conversations(state, wanted)
    return _json(workspace.paginate(conversations, offset, max_results, "conversations"))


async def _list_phone_numbers(request: Request, state: SandboxState) -> Response:
    query = QueryReader(request.query_params)
    user_id = query.optional("userId", US_ID, US_ID_SPEC)
    query.finish()
    return _json({"data": workspace.select_phone_numbers(state, user_id)})


ROUTES: Final = (
    Operation("POST", "/v1/messages", MESSAGE_ERRORS, _send_message),
    Operation("GET", "/v1/messages", MESSAGE_ERRORS, _list_messages),
    Operation("GET", "/v1/messages/{id}", MESSAGE_ERRORS, _get_message),
    Operation("GET", "/v1/calls", CALL_ERRORS, _list_calls),
    Operation("GET", "/v1/call-recordings/{callId}", RECORDING_ERRORS, _get_call_recordings),
    Operation("GET", "/v1/call-summaries/{callId}", SUMMARY_ERRORS, _get_call_summary),
    Operation("GET", "/v1/call-transcripts/{id}", TRANSCRIPT_ERRORS, _get_call_transcript),
    Operation("GET", "/v1/contact-custom-fields", CUSTOM_FIELD_ERRORS, _list_custom_fields),
    Operation("POST", "/v1/contacts", CONTACT_ERRORS, _create_contact),
    Operation("GET", "/v1/contacts", CONTACT_ERRORS, _list_contacts),
    Operation("GET", "/v1/contacts/{id}", CONTACT_ERRORS, _get_contact),
    Operation("PATCH", "/v1/contacts/{id}", CONTACT_ERRORS, _update_contact),
    Operation("DELETE", "/v1/contacts/{id}", CONTACT_ERRORS, _delete_contact),
    Operation("GET", "/v1/conversations", CONVERSATION_ERRORS, _list_conversations),
    Operation("GET", "/v1/phone-numbers", PHONE_NUMBER_ERRORS, _list_phone_numbers),
    Operation("GET", "/v1/calls/{callId}", GET_CALL_ERRORS, newer.get_call),
    Operation("GET", "/v1/call-voicemails/{callId}", VOICEMAIL_ERRORS, newer.get_voicemail),
    Operation("GET", "/v1/phone-numbers/{phoneNumberId}", PHONE_NUMBER_ERRORS, newer.get_phone_number),
    Operation("GET", "/v1/users", USER_ERRORS, newer.list_users),
    Operation("GET", "/v1/users/{userId}", USER_ERRORS, newer.get_user),
)
"""Every operation the sandbox serves: the spec's, less webhooks, and the newer ones (newer.py)."""


def _authorize(request: Request) -> str:
    """The presented key if it is exactly the sandbox key: raw, no `Bearer` (notes §3.1, §4.1)."""
    presented = request.headers.get("authorization")
    if not presented:
        raise Unauthorized("Missing authorization header")
    if not hmac.compare_digest(presented.encode(), SANDBOX_API_KEY.encode()):
        raise Unauthorized("Unauthorized")
    return presented


class _Hang(Response):
    """A response that is never sent: it returns once the client has gone away (or is cancelled)."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass


def _unknown_route(request: Request, exc: Exception) -> Response:
    """Express's default 404 page, which OpenPhone answers for any route it lacks (notes §3.4)."""
    page = _EXPRESS_404.format(html.escape(f"Cannot {request.method} {request.url.path}"))
    headers = {"content-security-policy": "default-src 'none'", "x-content-type-options": "nosniff"}
    return HTMLResponse(page, status_code=404, headers=headers)


async def _answer_fault(
    fault: Fault, operation: Operation, request: Request, state: SandboxState
) -> Response:
    if fault.kind is FaultKind.HANG:
        return _Hang()
    if fault.kind is FaultKind.MALFORMED:
        return Response(MALFORMED_BODY, media_type="application/json")
    if fault.kind is FaultKind.HTML_404:
        return _unknown_route(request, HTTPException(404))
    if fault.after_effect:
        await operation.handler(request, state)  # an invalid request answers its own error instead
    headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
    raise SandboxError(fault.code, headers=headers)


def _endpoint(operation: Operation, state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            key = _authorize(request)
            if not state.faults.admit(key, time.monotonic()):
                raise RateLimited()
            fault = state.faults.take(request.method, request.url.path, operation.path)
            if fault is not None:
                return await _answer_fault(fault, operation, request, state)
            return await operation.handler(request, state)
        except SandboxError as error:
            body = error_body(operation.family, error, state.next_trace())
            return JSONResponse(body, status_code=error.status, headers=dict(error.headers))

    return endpoint


class _Intake:
    """Pure ASGI middleware: records each request in `state.requests`, then waits `faults.latency`."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.state.record_request(scope["method"], scope["path"])
            if self.state.faults.latency > 0:
                await anyio.sleep(self.state.faults.latency)
        await self.app(scope, receive, send)


def create_sandbox_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox as a Starlette app over `state` (a fresh, seeded one if not given)."""
    state = state if state is not None else SandboxState()
    routes = [Route(op.path, _endpoint(op, state), methods=[op.method]) for op in ROUTES]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_Intake, state=state)],
        exception_handlers={404: _unknown_route, 405: _unknown_route},
    )
    app.router.redirect_slashes = False  # "/v1/messages/" is an unknown route, not a 307 to "/v1/messages"
    app.state.sandbox = state
    return app
