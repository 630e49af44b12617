"""The installed `openphone-mcp` console script started as Fly starts it, as a real process.

The environment is what a Fly Machine gets: fly.toml's [env], plus FLY_MACHINE_ID (set by Fly) and
the secrets. HOST and PORT are moved to a free loopback port so the test can reach it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_SCRIPT = Path(sys.executable).parent / "openphone-mcp"
EXIT_TIMEOUT_SECONDS = 10
START_TIMEOUT_SECONDS = 10
# uvicorn waits up to 25 s for open requests after SIGTERM; fly.toml's kill_timeout allows 35.
STOP_TIMEOUT_SECONDS = 30
MISSING_KEYS = "SECRET_KEYS is required in production"


def fly_environment(port: int, **extra: str) -> dict[str, str]:
    """fly.toml's [env] as a Machine sees it, on loopback `port`; nothing inherited but PATH."""
    with (ROOT / "fly.toml").open("rb") as file:
        env: dict[str, str] = dict(tomllib.load(file)["env"])
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        FLY_MACHINE_ID="test-machine",
        PATH=os.pathsep.join([str(CONSOLE_SCRIPT.parent), os.environ.get("PATH", "")]),
    )
    env.update(extra)
    return env


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(CONSOLE_SCRIPT), "serve", "--sandbox"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def keygen() -> str:
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), "keygen"], capture_output=True, text=True, timeout=30, check=True
    )
    return result.stdout.strip()


def wait_for_health(process: subprocess.Popen[str], url: str) -> httpx.Response:
    """Poll `url` until it answers; fail at once if the process exits first."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            _, stderr = process.communicate()
            pytest.fail(f"the gateway exited with {process.returncode}: {stderr}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                pytest.fail(f"no answer from {url} within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.1)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate()


@pytest.mark.parametrize(
    "without",
    [
        pytest.param((), id="fly-toml-env"),
        pytest.param(("GATEWAY_ENV",), id="fly-machine-id-alone"),
    ],
)
def test_start_without_secret_keys_is_refused(without: tuple[str, ...]) -> None:
    """On a Fly Machine (FLY_MACHINE_ID set) the gateway never runs with a throwaway key."""
    env = {name: value for name, value in fly_environment(free_port()).items() if name not in without}
    process = start(env)
    try:
        _, stderr = process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
    finally:
        stop(process)
    assert process.returncode == 2
    assert MISSING_KEYS in stderr


@pytest.fixture
def secret_key() -> str:
    return keygen()


@pytest.fixture
def gateway(secret_key: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = start(fly_environment(port, SECRET_KEYS=secret_key))
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def test_start_with_secret_keys_answers_healthz(gateway: tuple[subprocess.Popen[str], str]) -> None:
    process, url = gateway
    response = wait_for_health(process, f"{url}/healthz")
    assert response.status_code == 200


def test_a_websocket_upgrade_is_answered_as_plain_http(gateway: tuple[subprocess.Popen[str], str]) -> None:
    """No route speaks WebSocket, and the server loads no WebSocket implementation to refuse one."""
    process, url = gateway
    wait_for_health(process, f"{url}/healthz")
    upgrade = {
        "connection": "Upgrade",
        "upgrade": "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    response = httpx.get(f"{url}/healthz", headers=upgrade, timeout=10)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "sec-websocket-accept" not in response.headers


def test_sigterm_stops_the_gateway_within_the_drain_time(gateway: tuple[subprocess.Popen[str], str]) -> None:
    process, url = gateway
    wait_for_health(process, f"{url}/healthz")
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=STOP_TIMEOUT_SECONDS)
    assert process.returncode in (0, -signal.SIGTERM)


def test_the_secret_key_never_reaches_the_output(
    gateway: tuple[subprocess.Popen[str], str], secret_key: str
) -> None:
    process, url = gateway
    wait_for_health(process, f"{url}/healthz")
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=STOP_TIMEOUT_SECONDS)
    assert stderr, "the gateway logs its start and shutdown"
    assert secret_key not in stdout + stderr


PER_PROCESS_STATE = (
    "REDIS_URL is not set: codes, refresh rotation, revocation, legacy SSE sessions and pacing "
    "are kept per process; run one Machine only, or set REDIS_URL"
)


def test_start_without_redis_warns_once_that_state_is_per_process(
    gateway: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = gateway
    wait_for_health(process, f"{url}/healthz")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=STOP_TIMEOUT_SECONDS)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    warnings = [line["msg"] for line in lines if line["msg"] == PER_PROCESS_STATE]
    assert warnings == [PER_PROCESS_STATE]
    assert [line["level"] for line in lines if line["msg"] == PER_PROCESS_STATE] == ["WARNING"]
