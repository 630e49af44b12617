"""The operations known only from the newer official docs pages, not from openapi-v1.json (notes §0.2).

Get a call by id (§2.5), a call's voicemail (§2.9), a phone number by id (§2.12) and the workspace's
users (§2.13), with the shapes and error codes those pages document. They only read the workspace.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tools.sandbox import state as workspace
from tools.sandbox.data import Record, call_route
from tools.sandbox.errors import NotFound
from tools.sandbox.rules import AC_ID, AC_ID_SPEC, QueryReader, path_id
from tools.sandbox.state import SandboxState


def require_call(state: SandboxState, call_id: str) -> Record:
    """The call with the fields the newer docs add (`callRoute`, `aiHandled`: notes §2.4)."""
    call = state.calls.get(call_id)
    if call is None:
        raise NotFound("Call not found")
    return {**call, "callRoute": call_route(call), "aiHandled": None}


def call_voicemail(state: SandboxState, call_id: str) -> Record:
    """The call's voicemail; 404 for an unknown call and for a call without one."""
    if call_id not in state.calls:
        raise NotFound("Call not found")
    voicemail = state.voicemails.get(call_id)
    if voicemail is None:
        raise NotFound(f"Voicemail for call {call_id} not found")
    return voicemail


def require_user(state: SandboxState, user_id: str) -> Record:
    user = next((user for user in state.users if user["id"] == user_id), None)
    if user is None:
        raise NotFound("User not found")
    return user


async def get_call(request: Request, state: SandboxState) -> Response:
    call_id = path_id(str(request.path_params["callId"]), "callId", AC_ID, AC_ID_SPEC)
    return JSONResponse({"data": require_call(state, call_id)})


async def get_voicemail(request: Request, state: SandboxState) -> Response:
    return JSONResponse({"data": call_voicemail(state, str(request.path_params["callId"]))})


async def get_phone_number(request: Request, state: SandboxState) -> Response:
    """Only by id: an E.164 number in the path names no phone number (notes §2.12)."""
    phone_number_id = str(request.path_params["phoneNumberId"])
    inbox = next((pn for pn in state.phone_numbers if pn["id"] == phone_number_id), None)
    if inbox is None:
        raise NotFound("Phone number not found")
    return JSONResponse({"data": inbox})


async def list_users(request: Request, state: SandboxState) -> Response:
    """Oldest member first; `maxResults` is required and at most 50 (list-users.md, notes §2.13)."""
    query = QueryReader(request.query_params)
    max_results = query.max_results(50)
    offset = query.page_offset("users")
    query.finish()
    return JSONResponse(workspace.paginate(state.users, offset, max_results, "users"))


async def get_user(request: Request, state: SandboxState) -> Response:
    return JSONResponse({"data": require_user(state, str(request.path_params["userId"]))})
