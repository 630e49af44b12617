"""JSON-RPC 2.0 framing: decoding bodies into typed messages and encoding responses.

Pure functions over bytes and dicts. Envelopes are pydantic models; a body that is JSON but not a
valid envelope raises `InvalidRequest`; `recover_id` then finds whatever id can be correlated
(JSON-RPC 2.0 §5: the id is null only when it cannot be determined).
"""

from __future__ import annotations

from typing import Any, Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from gateway.errors import InvalidRequest, JSONRPCError, ParseError

RequestId = StrictStr | StrictInt

JSONRPC_VERSION: Final = "2.0"


class _Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    jsonrpc: Literal["2.0"]


class Request(_Envelope):
    """A JSON-RPC request: it has an id and expects exactly one response."""

    id: RequestId
    method: StrictStr
    params: dict[str, Any] | None = None


class Notification(_Envelope):
    """A JSON-RPC notification: no id, never answered."""

    method: StrictStr
    params: dict[str, Any] | None = None


class ClientResponse(_Envelope):
    """A response sent by the client; this server sends no requests, so these are acknowledged and dropped."""

    id: RequestId | None = None
    result: Any = None
    error: Any = None


Message = Request | Notification | ClientResponse


def decode_json(body: bytes) -> Any:
    """Parse a body as JSON, raising `ParseError` (-32700) when it is not."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ParseError("Parse error: the body is not valid JSON") from exc


def parse_message(obj: Any) -> Message:
    """Classify and validate one decoded JSON-RPC message, raising `InvalidRequest` (-32600)."""
    if not isinstance(obj, dict):
        raise InvalidRequest("Invalid request: a JSON-RPC message must be an object")
    model: type[Message]
    if "method" in obj:
        model = Request if "id" in obj else Notification
    elif "result" in obj or "error" in obj:
        model = ClientResponse
    else:
        raise InvalidRequest("Invalid request: the object has neither a method nor a result")
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        raise InvalidRequest(f"Invalid request: {describe_envelope_error(exc)}") from exc


def recover_id(obj: Any) -> RequestId | None:
    """The request id of a malformed message when it is itself well-formed, else None."""
    if isinstance(obj, dict):
        value = obj.get("id")
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return value
    return None


def describe_envelope_error(exc: ValidationError) -> str:
    """One sentence naming the first envelope member that is wrong."""
    first = exc.errors(include_url=False, include_input=False)[0]
    member = str(first["loc"][0]) if first["loc"] else "message"
    if member == "id":
        return "id: must be a string or an integer"
    return f"{member}: {first['msg']}"


def success(request_id: RequestId, result: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC success response."""
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "result": result}


def failure(request_id: RequestId | None, error: JSONRPCError) -> dict[str, Any]:
    """A JSON-RPC error response; `request_id` is None only when it could not be determined."""
    return {"jsonrpc": JSONRPC_VERSION, "id": request_id, "error": error.to_error()}


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A JSON-RPC notification from the server."""
    return {"jsonrpc": JSONRPC_VERSION, "method": method, "params": params}


def encode(message: Any) -> bytes:
    """Serialise a message (or a batch of them) as compact JSON."""
    return orjson.dumps(message)
