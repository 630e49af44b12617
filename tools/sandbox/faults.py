"""Fault knobs: added latency, OpenPhone's own rate limit, one-shot planned faults, failing recipients.

The knobs are plain attributes of `SandboxState.faults`, so a test flips them between requests. The
sandbox runs on one event loop and reads or changes a knob only between awaits, so concurrent
requests see each change whole. Faults never touch the seed data: a state with faults answers
differently but holds the same workspace.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import Final

RATE_WINDOW_SECONDS: Final = 1.0  # OpenPhone: 10 requests per second per key (notes §3.2)
_KNOWN_STATUSES: Final = frozenset(status.value for status in HTTPStatus)


class FaultKind(Enum):
    """What a planned fault does to the one request it meets."""

    STATUS = "status"  # answer an error status with the operation's documented body
    HANG = "hang"  # never answer; wait until the client goes away
    MALFORMED = "malformed"  # 200, `application/json`, but a truncated body
    HTML_404 = "html_404"  # 404 with the Express-style HTML page an unknown route gets


@dataclass(frozen=True)
class Fault:
    """One planned fault; build it with `Fault.status`, `.hang`, `.malformed` or `.html_404`."""

    kind: FaultKind
    code: int = 0
    retry_after: float | None = None
    after_effect: bool = False

    @classmethod
    def status(cls, code: int, retry_after: float | None = None, after_effect: bool = False) -> Fault:
        """Answer `code` (400-599). `retry_after` adds a Retry-After header; `after_effect` performs the
        request's side effect first (a send IS recorded), as a gateway timing out after the API acted."""
        if not 400 <= code <= 599 or code not in _KNOWN_STATUSES:
            raise ValueError(f"a fault status must be an HTTP error status, not {code}")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must not be negative")
        return cls(FaultKind.STATUS, code, retry_after, after_effect)

    @classmethod
    def hang(cls) -> Fault:
        """Never answer: the request waits until the client disconnects or is cancelled."""
        return cls(FaultKind.HANG)

    @classmethod
    def malformed(cls) -> Fault:
        """Answer 200 with `content-type: application/json` and a body that is not JSON."""
        return cls(FaultKind.MALFORMED)

    @classmethod
    def html_404(cls) -> Fault:
        """Answer as if the route did not exist: 404 with an HTML page."""
        return cls(FaultKind.HTML_404)


@dataclass(frozen=True)
class PlannedFault:
    """A fault waiting for the first request whose method and path (or route template) match."""

    method: str
    path: str
    fault: Fault


class Faults:
    """The sandbox's fault knobs. All off by default."""

    def __init__(self) -> None:
        self.latency: float = 0.0
        """Seconds added before every response."""
        self.rate_limit: int | None = None
        """None: no limit. N: OpenPhone's limit of N requests per second per key, answered with 429."""
        self.failing_recipients: dict[str, int] = {}
        """E.164 number -> the status a send to it answers (with nothing recorded)."""
        self._planned: list[PlannedFault] = []
        self.applied: list[tuple[str, str, Fault]] = []
        """(method, actual path, fault) of every planned fault used, in order."""
        self._windows: dict[str, deque[float]] = {}

    def plan(self, method: str, path: str, *faults: Fault) -> None:
        """Queue `faults` for requests to `path` (exact, or a route template such as
        "/v1/call-transcripts/{id}"); each is used once, in order."""
        self._planned.extend(PlannedFault(method.upper(), path, fault) for fault in faults)

    @property
    def planned(self) -> tuple[PlannedFault, ...]:
        """The faults not used yet, in order."""
        return tuple(self._planned)

    def take(self, method: str, path: str, template: str) -> Fault | None:
        """Remove and return the first planned fault for this request, if any."""
        for index, planned in enumerate(self._planned):
            if planned.method == method.upper() and planned.path in (path, template):
                del self._planned[index]
                self.applied.append((method.upper(), path, planned.fault))
                return planned.fault
        return None

    def admit(self, key: str, now: float) -> bool:
        """Whether a request by `key` at monotonic time `now` is within the rate limit (sliding window).

        Refused requests do not count against the window, so a client that waits Retry-After gets in.
        """
        if self.rate_limit is None:
            return True
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - RATE_WINDOW_SECONDS:
            window.popleft()
        if len(window) >= self.rate_limit:
            return False
        window.append(now)
        return True
