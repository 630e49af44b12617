"""Request ids and the access log (`gateway/operations/request_log.py`, written by `gateway/edge/entry.py`),
through uvicorn and a real client."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gateway.operations.logs import JSONFormatter, RequestIdFilter, current_request_id
from gateway.operations.request_log import annotate_current
from tests.conftest import serve
from tests.gateway.edge.around import edge_around

pytestmark = pytest.mark.anyio

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
HANDLER_LOGGER = "tests.request_log.handler"
FINGERPRINT = "9f86d081884c7d65"
LINE_WAIT_SECONDS = 5


async def hello(request: Request) -> Response:
    logging.getLogger(HANDLER_LOGGER).info("inside the async handler")
    return PlainTextResponse(request.state.request_id)


def hello_sync(request: Request) -> Response:
    logging.getLogger(HANDLER_LOGGER).info("inside the sync handler")
    return PlainTextResponse(request.state.request_id)


async def annotated(request: Request) -> Response:
    annotate_current(principal=FINGERPRINT, tool="send_message", outcome="error")
    annotate_current(upstream_status=429, outcome="rate_limited")
    return PlainTextResponse("done")


async def failing(request: Request) -> Response:
    raise RuntimeError("failed for +14155550123")


async def own_request_id(request: Request) -> Response:
    return PlainTextResponse("mine", headers={"x-request-id": "set-by-the-app"})


async def events(request: Request) -> Response:
    gate: threading.Event = request.app.state.gate

    async def stream() -> AsyncIterator[bytes]:
        yield b"data: one\n\n"
        await anyio.to_thread.run_sync(gate.wait, abandon_on_cancel=True)
        yield b"data: two\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


@dataclass
class Served:
    url: str
    gate: threading.Event


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One uvicorn server for the module, the app behind the edge."""
    app = Starlette(
        routes=[
            Route("/hello", hello),
            Route("/hello-sync", hello_sync),
            Route("/annotated", annotated),
            Route("/failing", failing),
            Route("/own-request-id", own_request_id),
            Route("/events", events),
        ]
    )
    app.state.gate = threading.Event()
    for url in serve(edge_around(app)):
        yield Served(url, app.state.gate)


@pytest.fixture
async def client(served: Served) -> AsyncIterator[httpx.AsyncClient]:
    served.gate.clear()
    async with httpx.AsyncClient(base_url=served.url, timeout=LINE_WAIT_SECONDS) as client:
        yield client
    served.gate.set()


class JSONLog:
    """What a `JSONFormatter` handler with the `RequestIdFilter` on the root logger wrote."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, logger: str) -> list[dict[str, Any]]:
        parsed = (json.loads(line) for line in self.text.splitlines())
        return [line for line in parsed if line["logger"] == logger]

    def access_lines(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines("gateway.access") if line["request_id"] == request_id]

    async def access_line(self, request_id: str) -> dict[str, Any]:
        """The one access line for `request_id`; it is written just after the response ends."""
        with anyio.fail_after(LINE_WAIT_SECONDS):
            while not self.access_lines(request_id):  # noqa: ASYNC110 - written on the server's thread
                await anyio.sleep(0.01)
        await anyio.sleep(0.1)
        (line,) = self.access_lines(request_id)
        return line


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[JSONLog]:
    log = JSONLog()
    handler = logging.StreamHandler(log.stream)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    yield log
    root.removeHandler(handler)


async def test_a_request_gets_one_access_line(client: httpx.AsyncClient, json_log: JSONLog) -> None:
    response = await client.get("/hello")
    request_id = response.headers["x-request-id"]
    line = await json_log.access_line(request_id)
    duration_ms = line.pop("duration_ms")
    assert {name: value for name, value in line.items() if name != "ts"} == {
        "level": "INFO",
        "logger": "gateway.access",
        "msg": "GET /hello 200",
        "request_id": request_id,
        "method": "GET",
        "path": "/hello",
        "status": 200,
        "client_ip": "127.0.0.1",
    }
    assert isinstance(duration_ms, float)
    assert duration_ms >= 0
    assert round(duration_ms, 1) == duration_ms


async def test_sane_inbound_request_id_is_kept_and_echoed(
    client: httpx.AsyncClient, json_log: JSONLog
) -> None:
    response = await client.get("/hello", headers={"x-request-id": "edge-7.Ab_c-9"})
    assert response.headers.get_list("x-request-id") == ["edge-7.Ab_c-9"]
    assert response.text == "edge-7.Ab_c-9"
    assert (await json_log.access_line("edge-7.Ab_c-9"))["status"] == 200


async def test_missing_request_id_is_generated(client: httpx.AsyncClient, json_log: JSONLog) -> None:
    first = (await client.get("/hello")).headers["x-request-id"]
    second = (await client.get("/hello")).headers["x-request-id"]
    assert GENERATED_ID.fullmatch(first)
    assert GENERATED_ID.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "inbound",
    [
        pytest.param("a" * 65, id="too-long"),
        pytest.param("", id="empty"),
        pytest.param("two words", id="space"),
        pytest.param('x","status":500,"y":"', id="json-injection"),
        pytest.param("abc%0d%0aset-cookie:%20a=b", id="header-injection"),
        pytest.param("abc\tdef", id="tab"),
        pytest.param(b"caf\xc3\xa9", id="non-ascii"),
    ],
)
async def test_untrusted_request_id_is_replaced(
    client: httpx.AsyncClient, json_log: JSONLog, inbound: str | bytes
) -> None:
    headers = {b"x-request-id": inbound.encode() if isinstance(inbound, str) else inbound}
    response = await client.get("/hello", headers=headers)
    (request_id,) = response.headers.get_list("x-request-id")
    assert GENERATED_ID.fullmatch(request_id)
    assert response.text == request_id
    assert (await json_log.access_line(request_id))["status"] == 200


async def test_request_id_set_by_the_app_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/own-request-id", headers={"x-request-id": "from-the-caller"})
    assert response.headers.get_list("x-request-id") == ["from-the-caller"]


async def test_query_string_is_never_logged(client: httpx.AsyncClient, json_log: JSONLog) -> None:
    """A query can carry a session id or an OAuth code: only the path is logged."""
    response = await client.get("/hello?sessionId=s3cr3t-session&x=plain-value")
    line = await json_log.access_line(response.headers["x-request-id"])
    assert (line["path"], line["msg"]) == ("/hello", "GET /hello 200")
    assert "s3cr3t-session" not in json_log.text
    assert "plain-value" not in json.dumps(json_log.lines("gateway.access"))


async def test_streamed_response_is_not_buffered_and_logged_once_at_its_end(
    client: httpx.AsyncClient, served: Served, json_log: JSONLog
) -> None:
    """The first event arrives while the stream is still open, and the line only once it ends."""
    async with client.stream("GET", "/events", headers={"x-request-id": "stream-1"}) as response:
        chunks = response.aiter_raw()
        with anyio.fail_after(LINE_WAIT_SECONDS):
            first = await anext(chunks)
        assert first == b"data: one\n\n"
        assert response.headers["x-request-id"] == "stream-1"
        await anyio.sleep(0.1)
        assert json_log.access_lines("stream-1") == []
        served.gate.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"data: two\n\n"
    line = await json_log.access_line("stream-1")
    assert (line["status"], line["path"]) == (200, "/events")


async def test_client_leaving_a_stream_is_logged_once(client: httpx.AsyncClient, json_log: JSONLog) -> None:
    async with client.stream("GET", "/events", headers={"x-request-id": "stream-2"}) as response:
        with anyio.fail_after(LINE_WAIT_SECONDS):
            await anext(response.aiter_raw())
    line = await json_log.access_line("stream-2")
    assert line["status"] == 200
    assert line["duration_ms"] >= 0


async def test_annotations_appear_on_the_access_line(client: httpx.AsyncClient, json_log: JSONLog) -> None:
    """A later annotation overrides an earlier one; fields never given stay absent."""
    response = await client.get("/annotated")
    line = await json_log.access_line(response.headers["x-request-id"])
    fields = {name: line.get(name) for name in ("principal", "tool", "upstream_status", "outcome")}
    assert fields == {
        "principal": FINGERPRINT,
        "tool": "send_message",
        "upstream_status": 429,
        "outcome": "rate_limited",
    }


async def test_app_exception_is_logged_once_with_the_500_sent(
    client: httpx.AsyncClient, json_log: JSONLog
) -> None:
    response = await client.get("/failing", headers={"x-request-id": "crash-1"})
    assert response.status_code == 500
    line = await json_log.access_line("crash-1")
    assert (line["status"], line["path"]) == (500, "/failing")
    assert "14155550123" not in json_log.text


@pytest.mark.parametrize("path", ["/hello", "/hello-sync"], ids=["async-endpoint", "sync-endpoint"])
async def test_lines_logged_inside_the_handler_carry_the_request_id(
    client: httpx.AsyncClient, json_log: JSONLog, path: str
) -> None:
    response = await client.get(path)
    request_id = response.headers["x-request-id"]
    await json_log.access_line(request_id)
    (line,) = json_log.lines(HANDLER_LOGGER)
    assert line["request_id"] == request_id


async def raw_crash(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("before any response")


async def test_exception_before_any_response_is_logged_with_status_0(json_log: JSONLog) -> None:
    """The exception still propagates: the server, not the edge, answers it."""
    transport = httpx.ASGITransport(app=edge_around(raw_crash))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        with pytest.raises(RuntimeError, match="before any response"):
            await client.get("/crash", headers={"x-request-id": "crash-2"})
    (line,) = json_log.access_lines("crash-2")
    assert (line["status"], line["client_ip"]) == (0, "127.0.0.1")


async def test_request_id_context_ends_with_the_request(json_log: JSONLog) -> None:
    seen: list[str | None] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(current_request_id.get())
        await PlainTextResponse("ok")(scope, receive, send)

    transport = httpx.ASGITransport(app=edge_around(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        await client.get("/", headers={"x-request-id": "ctx-1"})
    assert seen == ["ctx-1"]
    assert current_request_id.get() is None


async def test_existing_scope_state_is_kept() -> None:
    state: dict[str, Any] = {"lifespan_resource": "kept"}
    seen: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["state"])
        await PlainTextResponse("ok")(scope, receive, send)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "state": state}
    await edge_around(app)(scope, receive, send)
    assert seen == [state]
    assert seen[0] is state
    assert state["lifespan_resource"] == "kept"
    assert GENERATED_ID.fullmatch(state["request_id"])


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
async def test_other_scopes_pass_through_untouched(scope_type: str, json_log: JSONLog) -> None:
    calls: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": f"{scope_type}.disconnect"}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {"type": scope_type, "path": "/ws", "headers": []}
    await edge_around(app)(scope, receive, send)
    assert calls == [(scope, receive, send)]
    assert scope == {"type": scope_type, "path": "/ws", "headers": []}
    assert json_log.lines("gateway.access") == []
