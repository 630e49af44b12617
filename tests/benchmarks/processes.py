"""The processes a benchmark runs: servers on loopback ports, pinned to a CPU, stopped however it ends."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import psutil

HOST = "127.0.0.1"
# Short, so "ready" is known within milliseconds: the start-up benchmark times it.
READY_POLL_SECONDS = 0.002
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Cores:
    """Where things run: the server under test gets a core to itself; everything else shares the other."""

    server: int | None
    load: int | None

    @classmethod
    def split(cls) -> Cores:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        return cls(cpus[0], cpus[1]) if len(cpus) >= 2 else cls(None, None)

    def pin_self_to_load(self) -> None:
        if self.load is not None:
            os.sched_setaffinity(0, {self.load})


def pinned_to(cpu: int | None) -> Callable[[], None] | None:
    """A `preexec_fn` that pins the child process to `cpu` (None: no pinning)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the benchmark process dies, even by SIGKILL (Linux)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@dataclass
class Server:
    """A server process on a loopback port."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    @property
    def info(self) -> psutil.Process:
        return psutil.Process(self.process.pid)


def python_command(*args: str) -> list[str]:
    return [sys.executable, *args]


@contextlib.contextmanager
def running(
    name: str,
    command: Sequence[str],
    port: int,
    *,
    cpu: int | None,
    env: Mapping[str, str] | None = None,
    ready_path: str | None = "/healthz",
) -> Iterator[Server]:
    """Run `command` (which listens on `port`) for the block, pinned to `cpu`; yields once it answers.

    Ready means `GET ready_path` answers below 500, or with no `ready_path`, that the port accepts.
    """
    environment = {**os.environ, **(env or {})}
    # Logs go to a file, as a production process's go to a collector: written, never blocking on a reader.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command),
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=log,
            preexec_fn=_die_with_parent,
        )
        try:
            if cpu is not None:
                os.sched_setaffinity(process.pid, {cpu})
            url = f"http://{HOST}:{port}"
            wait_ready(process, url, ready_path, name, log)
            yield Server(name, url, process)
        finally:
            stop(process)


def wait_ready(
    process: subprocess.Popen[bytes],
    url: str,
    ready_path: str | None,
    name: str,
    log: IO[bytes],
    timeout: float = 30.0,
) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")[-4000:]
                raise RuntimeError(
                    f"{name} exited with status {process.returncode} before serving:\n{output}"
                )
            if _answers(client, url, ready_path):
                return
            time.sleep(READY_POLL_SECONDS)
    raise RuntimeError(f"{name} did not answer {url} within {timeout:g} s")


def _answers(client: httpx.Client, url: str, ready_path: str | None) -> bool:
    if ready_path is None:
        host, port = url.removeprefix("http://").split(":")
        with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1.0):
            return True
        return False
    with contextlib.suppress(httpx.TransportError):
        return client.get(f"{url}{ready_path}").status_code < 500
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
