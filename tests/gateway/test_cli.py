"""The `openphone-mcp` command as a real process: help, keygen, settings errors, serve and SIGTERM."""

from __future__ import annotations

import base64
import contextlib
import gc
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.edge.http_limits import MAX_HEADER_BYTES
from gateway.operations.tuning import GC_THRESHOLDS, raise_open_file_limit, tune_garbage_collector
from tests.conftest import TEST_API_KEY, free_port

COMMAND = [sys.executable, "-m", "gateway"]
START_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 15


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=30, env=env, check=False)


def clean_env(**values: str) -> dict[str, str]:
    """The parent environment without any gateway setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENPHONE_", "GATEWAY_", "SECRET_"))}
    env.update(values)
    return env


def test_help_names_both_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "keygen" in result.stdout


def test_serve_help_describes_its_options() -> None:
    result = run("serve", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--sandbox"):
        assert option in result.stdout


def test_keygen_prints_a_fresh_32_byte_key() -> None:
    first, second = run("keygen").stdout.strip(), run("keygen").stdout.strip()
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "=")) == 32


def test_a_bad_setting_stops_start_up_with_one_line_naming_it() -> None:
    result = run("serve", env=clean_env(GATEWAY_ENV="staging"))
    assert result.returncode == 2
    assert result.stderr == (
        "openphone-mcp: invalid setting GATEWAY_ENV: Input should be 'development' or 'production'\n"
    )


def test_production_refuses_to_start_without_secret_keys() -> None:
    result = run("serve", env=clean_env(GATEWAY_ENV="production"))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "openphone-mcp: invalid configuration: SECRET_KEYS is required in production"
    )


@pytest.fixture
def serving() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--sandbox"],
        env=clean_env(LOG_LEVEL="info"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/mcp", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_serve_answers_without_a_server_header(serving: tuple[subprocess.Popen[str], str]) -> None:
    _, url = serving
    response = httpx.post(
        f"{url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"x-openphone-api-key": TEST_API_KEY},
    )
    assert response.status_code == 200
    assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert "server" not in response.headers


def test_sigterm_shuts_down_gracefully(serving: tuple[subprocess.Popen[str], str]) -> None:
    """uvicorn finishes its shutdown, then re-raises SIGTERM so supervisors see why the process ended."""
    process, _ = serving
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=STOP_TIMEOUT_SECONDS)
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete." in output
    assert "Traceback" not in output


def test_sandbox_start_up_logs_the_demo_key_readably_as_json(
    serving: tuple[subprocess.Popen[str], str],
) -> None:
    """The demo key is public; the log redactor must not blank the one line that tells it."""
    process, _ = serving
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=STOP_TIMEOUT_SECONDS)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    sandbox = [line for line in lines if line["msg"].startswith("sandbox:")]
    assert [(line["logger"], line["msg"]) for line in sandbox] == [
        ("gateway.cli", "sandbox: OpenPhone is simulated; its public demo API key is sandbox-demo-key")
    ]


def test_serving_freezes_the_start_up_heap_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    gc.disable()
    try:
        tune_garbage_collector()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert GC_THRESHOLDS[0] > before[0]
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
        gc.enable()


# Records whether the collector ran while the app factory's module was loading, then runs `keygen`.
COLLECTOR_PROBE = """
import gc, sys
seen = []
def watch(event, args):
    if event == "import" and args[0] == "gateway.app":
        seen.append(gc.isenabled())
sys.addaudithook(watch)
sys.argv = ["openphone-mcp", "keygen"]
from gateway.__main__ import main
status = main()
print(seen, status)
"""


def test_the_command_loads_the_gateway_with_the_collector_off() -> None:
    """`gateway.__main__` (the console script's entry point) turns the collector off before importing."""
    done = subprocess.run([sys.executable, "-c", COLLECTOR_PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[False] 0"


# Runs `keygen` through the console script's entry point, builds a model as the gateway does at
# start, then prints how many distributions' entry points were read meanwhile (pydantic's plugin search).
PLUGIN_PROBE = """
import sys
read = []
def watch(event, args):
    if event == "open" and str(args[0]).endswith("entry_points.txt"):
        read.append(args[0])
sys.addaudithook(watch)
sys.argv = ["openphone-mcp", "keygen"]
from gateway.__main__ import main
status = main()
import pydantic
class Probe(pydantic.BaseModel):
    value: int
print(len(read), status)
"""


def _entry_points_read(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PLUGIN_PROBE], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.splitlines()[-1]


def test_the_command_builds_models_without_searching_for_pydantic_plugins() -> None:
    """The gateway uses no pydantic plugin, so no installed distribution's metadata is read for one."""
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    assert _entry_points_read(env) == "0 0"


def test_an_operator_can_turn_pydantic_plugins_back_on() -> None:
    """PYDANTIC_DISABLE_PLUGINS set empty is kept, and pydantic searches for plugins as by default."""
    reads, status = _entry_points_read({**os.environ, "PYDANTIC_DISABLE_PLUGINS": ""}).split()
    assert status == "0"
    assert int(reads) > 0


def test_serving_may_open_as_many_files_as_the_hard_limit_allows() -> None:
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        limit = raise_open_file_limit()
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert limit == soft
        assert soft == hard or hard == resource.RLIM_INFINITY
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, before)


def raw_exchange(url: str, head: bytes) -> bytes:
    """Send `head` over a fresh socket and read until the server answers and closes (or 64 KiB)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # The server may refuse and close while a large head is still being sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head)
        answer = b""
        while len(answer) < 65536:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


def ping_head(url: str, *headers: bytes) -> bytes:
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
    return (
        f"POST /mcp HTTP/1.1\r\nhost: {url.removeprefix('http://')}\r\n".encode()
        + b"content-type: application/json\r\nconnection: close\r\n"
        + f"x-openphone-api-key: {TEST_API_KEY}\r\ncontent-length: {len(body)}\r\n".encode()
        + b"".join(headers)
        + b"\r\n"
        + body
    )


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([b"x-pad: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n"], id="one-large-header"),
        pytest.param([b"x-%d: a\r\n" % n for n in range(MAX_HEADER_BYTES // 8)], id="many-headers"),
        pytest.param([b"x-pad: " + b"a" * (50 * 1024 * 1024) + b"\r\n"], id="fifty-mebibytes"),
    ],
)
def test_oversized_request_headers_are_refused_with_431(
    serving: tuple[subprocess.Popen[str], str], headers: list[bytes]
) -> None:
    """Review #10: httptools buffered a 50 MiB header and handed it to the app."""
    _, url = serving
    answer = raw_exchange(url, ping_head(url, *headers))
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 431 Request Header Fields Too Large"


def test_headers_within_the_limit_are_served(serving: tuple[subprocess.Popen[str], str]) -> None:
    _, url = serving
    answer = raw_exchange(url, ping_head(url, b"x-pad: " + b"a" * (MAX_HEADER_BYTES // 2) + b"\r\n"))
    assert answer.split(b"\r\n", 1)[0] == b"HTTP/1.1 200 OK"
    assert answer.endswith(b'{"jsonrpc":"2.0","id":1,"result":{}}')
