"""The request-head bound (`gateway/edge/http_limits.py`) on a real server, spoken to over raw sockets."""

from __future__ import annotations

import base64
import contextlib
import socket
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.edge.http_limits import MAX_HEADER_BYTES, BoundedHttpToolsProtocol
from tests.conftest import TEST_API_KEY, free_port, make_settings, serve

READ_BYTES = 65536
# More than the largest read an event loop makes (256 KiB), so most of it arrives after the body ended.
TRAILER_BYTES = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=10_000)
    yield from serve(create_app(settings), settings.port, http=BoundedHttpToolsProtocol)


def exchange(url: str, *parts: bytes) -> bytes:
    """Send `parts` over a fresh socket, then read until the server closes (or 64 KiB arrived)."""
    host, port = url.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # The server may refuse and close while the request is still being sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for part in parts:
                sock.sendall(part)
        with contextlib.suppress(ConnectionResetError):
            while len(answer) < READ_BYTES and (chunk := sock.recv(READ_BYTES)):
                answer += chunk
    return answer


def chunked_post(url: str, path: str, *headers: bytes) -> bytes:
    """The head of a chunked POST to `path` (the caller sends the chunks)."""
    return (
        f"POST {path} HTTP/1.1\r\nhost: {url.removeprefix('http://')}\r\n".encode()
        + b"transfer-encoding: chunked\r\nconnection: close\r\n"
        + b"".join(headers)
        + b"\r\n"
    )


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def status_line(answer: bytes) -> bytes:
    return answer.split(b"\r\n", 1)[0]


def test_a_trailer_section_larger_than_the_head_limit_is_refused_with_431(url: str) -> None:
    """Second review #3: trailers were never counted; 2 x 64 MiB of one trailer value took +131 MiB."""
    form = b"grant_type=refresh_token&refresh_token=x"
    head = chunked_post(url, "/token", b"content-type: application/x-www-form-urlencoded\r\n")
    filler = [b"a" * READ_BYTES] * (TRAILER_BYTES // READ_BYTES)
    answer = exchange(url, head + chunk(form) + b"0\r\nx-trailer: ", *filler)
    assert status_line(answer) == b"HTTP/1.1 431 Request Header Fields Too Large"


@pytest.mark.anyio
async def test_a_client_credential_sent_as_a_trailer_does_not_authenticate(url: str) -> None:
    """Second review #3: a Basic credential sent only as a trailer authenticated the client at /token."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as web:
        registered = await web.post(
            "/register",
            json={
                "redirect_uris": ["http://127.0.0.1:9/callback"],
                "client_name": "Trailer test",
                "token_endpoint_auth_method": "client_secret_basic",
            },
        )
    client = registered.json()
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode())
    form = b"grant_type=refresh_token&refresh_token=not-a-token"
    head = chunked_post(
        url, "/token", b"content-type: application/x-www-form-urlencoded\r\n", b"trailer: authorization\r\n"
    )
    answer = exchange(url, head + chunk(form) + b"0\r\nauthorization: Basic " + basic + b"\r\n\r\n")
    assert status_line(answer) == b"HTTP/1.1 401 Unauthorized"
    assert b'"error":"invalid_client"' in answer


def test_a_body_in_many_small_chunks_is_served(url: str) -> None:
    """Chunk framing is not head: 64 KiB of framing around a small body is an ordinary request."""
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}' + b" " * 16_000
    head = chunked_post(
        url,
        "/mcp",
        b"content-type: application/json\r\n",
        f"x-openphone-api-key: {TEST_API_KEY}\r\n".encode(),
    )
    chunks = b"".join(chunk(body[i : i + 1]) for i in range(len(body)))
    assert len(chunks) - len(body) > 2 * MAX_HEADER_BYTES
    answer = exchange(url, head + chunks + b"0\r\n\r\n")
    assert status_line(answer) == b"HTTP/1.1 200 OK"
    assert answer.endswith(b'{"jsonrpc":"2.0","id":1,"result":{}}')


def ping(url: str, target: str, *hosts: str) -> bytes:
    """A POST of an MCP ping to `target`, with one Host header per item of `hosts`."""
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    return (
        f"POST {target} HTTP/1.1\r\n".encode()
        + b"".join(f"host: {host}\r\n".encode() for host in hosts)
        + b"content-type: application/json\r\nconnection: close\r\n"
        + f"x-openphone-api-key: {TEST_API_KEY}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
        + body
    )


@pytest.mark.parametrize("foreign_first", [False, True], ids=["own-host-first", "foreign-host-first"])
def test_two_host_headers_are_refused_with_400(url: str, foreign_first: bool) -> None:
    """Second review #7: the first of two Host headers was taken (RFC 9112 §3.2: 400)."""
    hosts = [url.removeprefix("http://"), "evil.example"]
    answer = exchange(url, ping(url, "/mcp", *(reversed(hosts) if foreign_first else hosts)))
    assert status_line(answer) == b"HTTP/1.1 400 Bad Request"
    assert answer.endswith(b"A request may carry only one Host header.")


def test_an_absolute_form_target_naming_another_host_is_misdirected(url: str) -> None:
    """Second review #7: the target's authority was ignored (RFC 9112 §3.2.2: it wins over Host)."""
    answer = exchange(url, ping(url, "http://evil.example/mcp", url.removeprefix("http://")))
    assert status_line(answer) == b"HTTP/1.1 421 Misdirected Request"


def test_an_absolute_form_target_naming_this_server_is_served(url: str) -> None:
    answer = exchange(url, ping(url, f"{url}/mcp", "evil.example"))
    assert status_line(answer) == b"HTTP/1.1 200 OK"
    assert answer.endswith(b'{"jsonrpc":"2.0","id":1,"result":{}}')


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/mcp", "http://user@127.0.0.1/mcp", "http:///mcp"])
def test_an_absolute_form_target_that_names_no_plain_host_is_refused_with_400(url: str, target: str) -> None:
    answer = exchange(url, ping(url, target, url.removeprefix("http://")))
    assert status_line(answer) == b"HTTP/1.1 400 Bad Request"
    assert answer.endswith(b"The request target must be a path, or an http(s) URL naming only a host.")
