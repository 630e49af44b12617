"""The one wrapper every request enters through (`gateway/edge/entry.py`), over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.errors import HTTPError
from gateway.operations.metrics import Metrics
from gateway.transports.http import render_http_error
from tests.conftest import serve
from tests.gateway.edge.around import edge_around

DIRECT_BODY = b"direct"


async def direct(scope: Scope, receive: Receive, send: Send) -> None:
    """A direct endpoint: refuses by raising, as the Streamable HTTP endpoint does, or answers."""
    query = scope["query_string"]
    if query == b"refuse":
        raise HTTPError(415, "Send JSON.", {"x-hint": "json"})
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"x-request-id", b"from-the-endpoint")]}
    )
    if query == b"refuse-late":
        raise HTTPError(415, "Too late to refuse.")
    await send({"type": "http.response.body", "body": DIRECT_BODY})


async def routed(request: Request) -> Response:
    return PlainTextResponse(f"routed {request.method}")


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture(scope="module")
def url(metrics: Metrics) -> Iterator[str]:
    app = Starlette(
        routes=[Route("/mcp", routed, methods=["GET", "POST"])],
        exception_handlers={HTTPError: render_http_error},
    )
    edge = edge_around(
        app,
        public_url="http://127.0.0.1",
        guarded={"/mcp"},
        metrics=metrics,
        direct={("POST", "/mcp"): direct},
    )
    yield from serve(edge)


def counted(metrics: Metrics, route: str, status: int) -> float:
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == "gateway_http_requests_total" and sample.labels == {
                "route": route,
                "status": str(status),
            }:
                return sample.value
    return 0.0


def test_a_direct_route_skips_the_router_and_gets_every_edge_header(url: str) -> None:
    response = httpx.post(f"{url}/mcp", headers={"host": "127.0.0.1"})
    assert (response.status_code, response.content) == (200, DIRECT_BODY)
    assert response.headers.get_list("x-request-id") != ["from-the-endpoint"]
    assert len(response.headers.get_list("x-request-id")) == 1
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_other_methods_on_a_direct_path_go_through_the_router(url: str) -> None:
    response = httpx.get(f"{url}/mcp", headers={"host": "127.0.0.1"})
    assert (response.status_code, response.text) == (200, "routed GET")
    assert response.headers["x-frame-options"] == "DENY"


def test_an_http_error_from_a_direct_route_is_rendered_as_the_app_renders_it(url: str) -> None:
    response = httpx.post(f"{url}/mcp?refuse", headers={"host": "127.0.0.1", "x-request-id": "refused-1"})
    assert response.status_code == 415
    assert response.json() == {"error": "unsupported_media_type", "error_description": "Send JSON."}
    assert (response.headers["x-hint"], response.headers["x-request-id"]) == ("json", "refused-1")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_http_error_after_the_response_started_is_not_rendered_over_it(url: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{url}/mcp?refuse-late", headers={"host": "127.0.0.1"})


def test_a_direct_route_is_still_guarded(url: str) -> None:
    response = httpx.post(f"{url}/mcp", headers={"host": "127.0.0.1", "origin": "https://evil.test"})
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    misdirected = httpx.post(f"{url}/mcp", headers={"host": "evil.test"})
    assert (misdirected.status_code, misdirected.json()["error"]) == (421, "misdirected_request")


def test_responses_are_counted_by_known_route_and_status(url: str, metrics: Metrics) -> None:
    before = (counted(metrics, "/mcp", 415), counted(metrics, "other", 404))
    httpx.post(f"{url}/mcp?refuse", headers={"host": "127.0.0.1"})
    httpx.get(f"{url}/elsewhere?x=1", headers={"host": "127.0.0.1"})
    after = (counted(metrics, "/mcp", 415), counted(metrics, "other", 404))
    assert (after[0] - before[0], after[1] - before[1]) == (1.0, 1.0)
    assert b'route="/elsewhere"' not in generate_latest(metrics.registry)
