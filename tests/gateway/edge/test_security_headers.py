"""Every route's responses carry the security headers (`gateway/edge/security_headers.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import secure
from starlette.routing import BaseRoute, Mount, Route

from gateway.app import create_app
from gateway.edge.security_headers import BASELINE, DOCUMENTS, HSTS, HSTS_SECONDS
from tests.conftest import free_port, make_settings, serve

HTTPS_PUBLIC_URL = "https://gateway.example.test"


def every_route(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path) for each route of the app, mounts flattened."""
    for route in routes:
        if isinstance(route, Mount):
            yield from every_route(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            # A route without methods is an ASGI app (the Streamable HTTP endpoint): POST is its verb.
            methods = sorted((route.methods or {"POST"}) - {"HEAD", "OPTIONS"})
            yield methods[0], prefix + route.path


def walk(https: bool) -> Iterator[tuple[str, httpx.Response]]:
    overrides = {"public_url": HTTPS_PUBLIC_URL} if https else {}
    settings = make_settings(free_port(), sandbox=True, **overrides)
    app = create_app(settings)
    headers = {"host": "gateway.example.test"} if https else {}
    for url in serve(app, settings.port):
        with httpx.Client(base_url=url, headers=headers, timeout=10) as web:
            for method, path in every_route(list(app.routes)):
                if (method, path) == ("GET", "/sse"):
                    continue  # a stream: covered below without holding it open
                yield f"{method} {path}", web.request(method, path)


@pytest.fixture(scope="module")
def responses() -> list[tuple[str, httpx.Response]]:
    return list(walk(https=False))


def test_the_walk_covers_the_oauth_mcp_and_operations_routes(
    responses: list[tuple[str, httpx.Response]],
) -> None:
    walked = {name for name, _ in responses}
    assert {"POST /mcp", "POST /token", "GET /authorize", "GET /healthz", "GET /metrics"} <= walked
    assert "GET /.well-known/oauth-authorization-server" in walked


def test_every_response_has_the_baseline(responses: list[tuple[str, httpx.Response]]) -> None:
    for name, response in responses:
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] in ("strict-origin-when-cross-origin", "no-referrer"), name
        assert response.headers["x-frame-options"] == "DENY", name
        assert response.headers["permissions-policy"] == "geolocation=(), microphone=(), camera=()", name
        assert "strict-transport-security" not in response.headers, name
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], name


def test_json_responses_get_a_policy_that_allows_nothing(responses: list[tuple[str, httpx.Response]]) -> None:
    json_responses = [
        (name, response)
        for name, response in responses
        if response.headers.get("content-type", "").startswith("application/json")
    ]
    assert json_responses
    for name, response in json_responses:
        assert response.headers["content-security-policy"].startswith("default-src 'none'"), name
        assert "cross-origin-resource-policy" not in response.headers, name


def test_html_pages_keep_their_own_nonce_policy(responses: list[tuple[str, httpx.Response]]) -> None:
    pages = [(name, r) for name, r in responses if r.headers.get("content-type", "").startswith("text/html")]
    assert pages
    for name, response in pages:
        policy = response.headers["content-security-policy"]
        assert "'nonce-" in policy, name
        assert response.headers["cross-origin-opener-policy"] == "same-origin", name


def test_an_sse_stream_carries_the_headers_too() -> None:
    settings = make_settings(free_port(), sandbox=True)
    for url in serve(create_app(settings), settings.port):
        with (
            httpx.Client(base_url=url, timeout=10) as web,
            web.stream("GET", "/sse", headers={"x-openphone-api-key": "sandbox-demo-key"}) as stream,
        ):
            headers = stream.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("default-src 'none'")


def test_hsts_is_sent_when_served_over_https() -> None:
    for name, response in walk(https=True):
        assert response.headers["strict-transport-security"] == "max-age=31536000", name


def test_the_baseline_is_what_secure_writes_for_the_policy() -> None:
    """The constants the edge sends are the `secure` package's output for the policy it documents."""
    baseline = secure.Secure(
        xcto=secure.XContentTypeOptions(),
        referrer=secure.ReferrerPolicy().strict_origin_when_cross_origin(),
        xfo=secure.XFrameOptions().deny(),
        permissions=secure.PermissionsPolicy().geolocation().microphone().camera(),
        hsts=secure.StrictTransportSecurity().max_age(HSTS_SECONDS),
    )
    assert list(baseline.headers.items()) == [HSTS, *BASELINE]


def test_the_document_policies_are_what_secure_writes() -> None:
    documents = secure.Secure(
        coop=secure.CrossOriginOpenerPolicy().same_origin(),
        corp=secure.CrossOriginResourcePolicy().same_origin(),
    )
    assert list(documents.headers.items()) == list(DOCUMENTS)
