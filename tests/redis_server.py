"""A real Debian `redis-server` for the tests: started on a free loopback port, without persistence,
and controllable the way the fault tests need (stop and start on the same port, pause and resume).

`scripts/test` installs the package when it is missing; a missing binary fails the run, never skips.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Final

import redis

from tests.conftest import free_port

REDIS_SERVER: Final = "/usr/bin/redis-server"
START_TIMEOUT_SECONDS: Final = 10


class RedisServer:
    """One redis-server process (restartable on its port)."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which(REDIS_SERVER) is None:
            raise RuntimeError(f"{REDIS_SERVER} is missing: run `bash scripts/test`, which installs it")
        self.port = free_port()
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._workdir),
                "--enable-debug-command", "local",
                "--daemonize", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)

    def pin(self, cpu: int | None) -> None:
        """Keep the server on `cpu` (benchmarks keep it off the core under test)."""
        if cpu is not None and self._process is not None:
            os.sched_setaffinity(self._process.pid, {cpu})

    def stop(self) -> None:
        """Stop the server at once (its data is gone: it keeps none)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def ensure_running(self) -> None:
        """Undo what a fault test may have left: a paused or stopped server."""
        if self._process is None:
            self.start()
        else:
            self.resume()

    def flush(self) -> None:
        self.client().flushall()
