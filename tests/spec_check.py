"""SpecCheck: an ASGI wrapper that validates every exchange against OpenPhone's own OpenAPI spec.

The spec is `tests/openphone-openapi-v1.json`, a byte-identical copy of openapi-v1.json (OpenPhone's
OpenAPI 3.1 file, 2025-06 build), read with openapi-core. It gets overlays from the newer official docs
pages: `GET /v1/contacts` `externalIds` is optional, as list-contacts.md says ("When omitted, returns
all contacts for the organization"; openphone-api-notes.md §2.10), and the five operations only those
pages document (get a call, a voicemail, a phone number by id, list and get users) are added with
their sources (tests/spec_overlay.py).

openapi-core's check of the spec document itself is off: the file has one schema error, outside the
routes the sandbox serves (`GET /v1/webhooks` `userId` has `examples: "U55wgP5I5"`, a string where
JSON Schema wants an array), and the copy must stay byte-identical.

What is checked:
- Exchanges on a path or method the spec lacks (the sandbox's 404 HTML) have no operation: recorded,
  not validated, not counted. A path with an empty segment ("/v1/contacts/") counts as one of them,
  although openapi-core would match it to "/v1/contacts/{id}" with an empty id.
- Every response of an operation: status, content type and JSON body against the schema documented for
  that status (error bodies included; 204 has none). An undocumented status is a violation, except
  the gateway statuses in GATEWAY_STATUSES, which the spec documents for no operation.
- The request (path and query parameters, the Authorization header's presence, the JSON body) only
  when the app answered 2xx: a refused request is a test of the refusal, not a client bug.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.spec_overlay import add_newer_operations

SPEC_PATH: Final = Path(__file__).with_name("openphone-openapi-v1.json")
SERVER_URL: Final = "https://api.openphone.com"
# Answered by the API gateway in front of every operation (rate limit, upstream down), so no
# operation documents them; the sandbox's faults produce them.
GATEWAY_STATUSES: Final = frozenset({429, 502, 503, 504})
_DETAIL_LIMIT: Final = 300


def load_spec() -> dict[str, Any]:
    """The spec with its overlays: `externalIds` on `GET /v1/contacts` is optional, and the newer
    operations are added."""
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_bytes())
    for parameter in spec["paths"]["/v1/contacts"]["get"]["parameters"]:
        if parameter["name"] == "externalIds":
            parameter["required"] = False
    add_newer_operations(spec)
    return spec


@functools.cache
def openphone_spec() -> OpenAPI:
    config = Config(spec_validator_cls=None)  # None: skip the check of the spec document itself
    return OpenAPI.from_dict(load_spec(), config=config)


@dataclass
class Exchange:
    """One request and the response the app gave it (status 0 while none has been sent)."""

    method: str
    path: str
    query_string: bytes
    request_headers: Headers
    request_body: bytes
    status: int = 0
    response_headers: Headers = field(default_factory=Headers)
    response_body: bytes = b""

    def describe(self) -> str:
        query = f"?{self.query_string.decode('latin-1')}" if self.query_string else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


class _SpecRequest:
    """An exchange's request as openapi-core reads it, addressed to the spec's server."""

    def __init__(self, exchange: Exchange) -> None:
        self.host_url = SERVER_URL
        self.path = exchange.path
        self.method = exchange.method.lower()
        self.body = exchange.request_body or None
        self.content_type = exchange.request_headers.get("content-type", "application/octet-stream")
        self.parameters = RequestParameters(
            query=QueryParams(exchange.query_string), header=exchange.request_headers
        )


class _SpecResponse:
    """An exchange's response as openapi-core reads it."""

    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status
        self.content_type = exchange.response_headers.get("content-type", "")
        self.headers = exchange.response_headers
        self.data = exchange.response_body


def _describe(error: BaseException) -> str:
    """An openapi-core error and the JSON Schema failures under it, one line, without whole bodies."""
    cause: BaseException | None = error
    while cause is not None:
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            details = "; ".join(f"{e.json_path}: {e.message}"[:_DETAIL_LIMIT] for e in schema_errors)
            return f"{type(error).__name__}: {details}"
        cause = cause.__cause__
    return f"{type(error).__name__}: {error}"[:_DETAIL_LIMIT]


class SpecCheck:
    """Pure ASGI middleware recording every exchange and its spec violations; see the module docstring.

    `exchanges` holds every completed exchange, `checked` counts those validated against an operation,
    `request_violations` and `response_violations` hold one readable line per problem.
    """

    def __init__(self, app: ASGIApp, spec: OpenAPI | None = None) -> None:
        self.app = app
        self.spec = spec if spec is not None else openphone_spec()
        self.exchanges: list[Exchange] = []
        self.checked = 0
        self.request_violations: list[str] = []
        self.response_violations: list[str] = []

    @property
    def violations(self) -> list[str]:
        return [*self.request_violations, *self.response_violations]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, receive = await _buffer_body(receive)
        exchange = Exchange(
            scope["method"], scope["path"], scope.get("query_string", b""), Headers(scope=scope), body
        )
        chunks: list[bytes] = []

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = Headers(raw=list(message.get("headers", [])))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    exchange.response_body = b"".join(chunks)
                    self.check(exchange)  # before the client can see the end of the response
            await send(message)

        await self.app(scope, receive, record)

    def check(self, exchange: Exchange) -> None:
        """Validate one completed exchange and record it."""
        self.exchanges.append(exchange)
        if "" in exchange.path.split("/")[1:]:
            return  # an empty segment ("/v1/contacts/") is no `{id}`: no router takes it to an operation
        request = _SpecRequest(exchange)
        response_errors = list(self.spec.iter_response_errors(request, _SpecResponse(exchange)))
        if any(isinstance(error, PathError) for error in response_errors):
            return
        self.checked += 1
        for error in response_errors:
            if isinstance(error, ResponseNotFound) and exchange.status in GATEWAY_STATUSES:
                continue
            self.response_violations.append(f"{exchange.describe()}: {_describe(error)}")
        if 200 <= exchange.status < 300:
            for error in self.spec.iter_request_errors(request):
                self.request_violations.append(f"{exchange.describe()}: request {_describe(error)}")


async def _buffer_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a `receive` that replays it, then passes on what follows."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    is_replayed = False

    async def replay() -> Message:
        nonlocal is_replayed
        if is_replayed:
            return await receive()
        is_replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
