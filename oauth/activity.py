"""What was written with each key (issue 25): the "Connected apps" page's activity list.

Every call of a tool that writes (texts, contacts) is noted: the tool, when, the credential that made
it (an OAuth sign-in, or the key itself: "direct"), its recipients or contact, its outcome, an audit
id and the ids of the messages it sent; never a message's text, which OpenPhone keeps. Like "last
used", a note is a dict write on the request path, and a background flush appends it to a log bounded
per key (the last 100) that forgets an entry after 30 days: in memory, or a Redis stream per key.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

import orjson
from pydantic import BaseModel, ConfigDict

from gateway.keys import ServerKeys
from gateway.protocol.principal import Principal
from oauth.connections import MAX_INDEXED_KEYS, key_digest
from oauth.last_used import flush_every
from oauth.store import StoreUnavailable
from tools.undo import new_audit_id

logger = logging.getLogger(__name__)

MAX_ENTRIES_PER_KEY: Final = 100
ENTRY_SECONDS: Final = 30 * 24 * 3600
FLUSH_INTERVAL_SECONDS: Final = 5
# Notes waiting for the flush; past this a note is dropped (and logged), never waited for.
MAX_PENDING: Final = 10_000
_MAX_TARGETS: Final = 100


class Entry(BaseModel):
    """One write. `credential` is opaque (`bearer:…` names a sign-in, anything else is the key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool: str
    at: float
    credential: str
    direct: bool
    recipients: tuple[str, ...] = ()
    contact_id: str | None = None
    message_ids: tuple[str, ...] = ()
    outcome: str
    audit_id: str


class ActivityLog(Protocol):
    """The key digest → last writes log. Every method raises `StoreUnavailable` when unreachable."""

    async def append(self, entries: Sequence[tuple[str, Entry]]) -> None:
        """Add each (digest, entry), keeping the key's last MAX_ENTRIES_PER_KEY."""
        ...

    async def recent(self, digest: str) -> list[Entry]:
        """The key's entries of the last 30 days, newest first."""
        ...


class MemoryActivity:
    """`ActivityLog` in this process: a ring per key; at most MAX_INDEXED_KEYS keys, oldest dropped."""

    def __init__(self, clock: Callable[[], float] = time.time, keys: int = MAX_INDEXED_KEYS) -> None:
        self._clock = clock
        self._max_keys = keys
        self._rings: dict[str, deque[Entry]] = {}

    def __len__(self) -> int:
        """How many entries are held (for the soak scenario)."""
        return sum(len(ring) for ring in self._rings.values())

    async def append(self, entries: Sequence[tuple[str, Entry]]) -> None:
        for digest, entry in entries:
            ring = self._rings.pop(digest, None) or deque(maxlen=MAX_ENTRIES_PER_KEY)
            ring.append(entry)
            self._rings[digest] = ring
        while len(self._rings) > self._max_keys:
            del self._rings[next(iter(self._rings))]

    async def recent(self, digest: str) -> list[Entry]:
        oldest = self._clock() - ENTRY_SECONDS
        return [entry for entry in reversed(self._rings.get(digest, ())) if entry.at > oldest]


def describe(tool: str, arguments: dict[str, Any], structured: dict[str, Any] | None) -> dict[str, Any]:
    """Who or what a write touched, from its arguments and result: never the message text."""
    result = structured or {}
    to = arguments.get("to")
    recipients = tuple(str(number) for number in (to if isinstance(to, list) else [to] if to else []))
    message_ids: list[str] = []
    if tool == "send-message" and isinstance(result.get("id"), str):
        message_ids.append(result["id"])
    for outcome in result.get("results", result.get("outcomes", [])) or []:
        if isinstance(outcome, dict) and isinstance(outcome.get("messageId"), str):
            message_ids.append(outcome["messageId"])
    contact = result.get("contactId", result.get("id")) if "contact" in tool else None
    contact = contact or (arguments.get("id") if "contact" in tool else None)
    return {
        "recipients": recipients[:_MAX_TARGETS],
        "contact_id": contact if isinstance(contact, str) else None,
        "message_ids": tuple(message_ids[:_MAX_TARGETS]),
        "audit_id": result.get("auditId") if isinstance(result.get("auditId"), str) else new_audit_id(),
    }


def _structured(result: dict[str, Any]) -> dict[str, Any] | None:
    """A successful result's structured content, read back from its JSON text copy (the registry
    splices `structuredContent` in unparsed)."""
    try:
        parsed = orjson.loads(result["content"][0]["text"])
    except (KeyError, IndexError, TypeError, orjson.JSONDecodeError):
        return None
    return parsed if isinstance(parsed, dict) else None


class ActivityRecorder:
    """Notes writes on the request path (a list append) and flushes them to the log in the background."""

    def __init__(self, log: ActivityLog, keys: ServerKeys, clock: Callable[[], float] = time.time) -> None:
        self._log = log
        self._keys = keys
        self._clock = clock
        self._pending: list[tuple[str, Entry]] = []

    def note(
        self, principal: Principal, tool: str, arguments: dict[str, Any], result: dict[str, Any], outcome: str
    ) -> None:
        """One write call finished with `outcome` ("ok" or "error"); constant time, never awaits."""
        if len(self._pending) >= MAX_PENDING:
            logger.warning("activity entry dropped: %d already wait to be written", MAX_PENDING)
            return
        entry = Entry(
            tool=tool,
            at=self._clock(),
            credential=principal.credential,
            direct=principal.source != "bearer",
            outcome=outcome,
            **describe(tool, arguments, None if outcome != "ok" else _structured(result)),
        )
        self._pending.append((principal.api_key, entry))

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:
            await self._log.append([(key_digest(self._keys, key), entry) for key, entry in pending])
        except StoreUnavailable:
            logger.warning("%d activity entries not written: the activity log is unreachable", len(pending))

    async def run(self) -> None:
        """Flush every FLUSH_INTERVAL_SECONDS until cancelled."""
        await flush_every(FLUSH_INTERVAL_SECONDS, self.flush)
