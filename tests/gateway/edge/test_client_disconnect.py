"""A client that leaves in the middle of its request body, against a real gateway (second review #6)."""

from __future__ import annotations

import logging
import socket
import time

import pytest

from tests.conftest import LiveServer

SETTLE_SECONDS = 10
FORM = "application/x-www-form-urlencoded"


def leave_mid_body(live_server: LiveServer, path: str, content_type: str) -> None:
    """Declare a 1,000-byte body, send 5 bytes of it, and close the connection."""
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: {content_type}\r\n".encode()
            + b"x-openphone-api-key: op-test-key\r\ncontent-length: 1000\r\n\r\n{'a'"
        )


def access_line_written(caplog: pytest.LogCaptureFixture, path: str) -> bool:
    return any(
        record.name == "gateway.access" and f"POST {path} " in record.message for record in caplog.records
    )


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/mcp", "application/json"), ("/register", "application/json"), ("/token", FORM)],
)
def test_a_client_leaving_mid_body_is_logged_at_info_without_a_traceback(
    live_server: LiveServer, caplog: pytest.LogCaptureFixture, path: str, content_type: str
) -> None:
    caplog.set_level(logging.INFO)
    leave_mid_body(live_server, path, content_type)
    deadline = time.monotonic() + SETTLE_SECONDS
    while not access_line_written(caplog, path) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING] == []
    (line,) = [record for record in caplog.records if record.name == "gateway.edge.entry"]
    assert (line.levelno, line.getMessage(), line.exc_info) == (
        logging.INFO,
        f"POST {path}: the client disconnected before the request body arrived",
        None,
    )
