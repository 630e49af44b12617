"""Pending sends: a send that waits for a person's confirmation (issue 23, "A person confirms").

Under the "ask me before each send" rule a send tool does not send: it raises `SendHeld` with what it
would send, and the protocol core records a `HeldSend` in the shared state and answers with a
preview and the ways to confirm. A pending send is bound to the grant (its id and a digest of its
choices) and to a digest of (sender, recipients, text); it expires after `PENDING_TTL_SECONDS` and is
settled at most once, atomically, on whichever machine is asked (`PendingStore.settle`). A confirmed
send is delivered by running the same tool again with the confirmed digest in its context: the tool
checks the inbox and recipients again, and its hold lets through only that exact send.

`MemoryPendingStore` keeps them in this process; `gateway.redis.pending.RedisPendingStore` shares them
between machines.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Final, Literal, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field

from tools.errors import ToolError, ToolsError

PENDING_TTL_SECONDS: Final = 600
# A settled send's outcome stays readable this long after its expiry, for retries that ask about it.
OUTCOME_KEPT_SECONDS: Final = 600
PENDING_ID_BYTES: Final = 18

Decision = Literal["confirm", "cancel"]


class SendRequest(BaseModel):
    """What a send tool would send: the sender inbox (`PN…`), every recipient and the text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sender: str
    recipients: tuple[str, ...]
    text: str

    def digest(self) -> str:
        """SHA-256 of the canonical (sender, sorted distinct recipients, text)."""
        canonical = orjson.dumps([self.sender, sorted(set(self.recipients)), self.text])
        return hashlib.sha256(canonical).hexdigest()


class SendHeld(Exception):
    """Raised by a send tool's hold: the send needs a person's confirmation; nothing was sent.

    Not a `ToolError`, so it passes through `Tool.run` to the protocol core, which records the
    pending send and answers in the way the client can show.
    """

    def __init__(self, request: SendRequest) -> None:
        super().__init__("this send waits for a person's confirmation")
        self.request = request


class Status(StrEnum):
    """Where a pending send stands."""

    PENDING = "pending"  # waiting for a person
    CONFIRMING = "confirming"  # confirmed; being delivered
    SENT = "sent"
    FAILED = "failed"  # confirmed, but OpenPhone refused it
    CANCELLED = "cancelled"  # declined or cancelled by the person


class HeldSend(BaseModel):
    """One pending send. `api_key` lets a confirmation page send without the client's token; it is
    never shown, logged or put in an answer, and the Redis store keeps the record encrypted.
    `credential` and `source` name who asked (as `Principal` does), so a send confirmed on the page is
    listed in the key's activity under the sign-in that asked for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    grant_id: str
    grant_digest: str
    fingerprint: str
    api_key: str = Field(repr=False)
    credential: str = ""
    source: Literal["bearer", "header", "environment"] = "bearer"
    grant: dict[str, Any] = Field(default_factory=dict)
    tool: str
    arguments: dict[str, Any]
    request: SendRequest
    expires_at: float

    @property
    def digest(self) -> str:
        return self.request.digest()


class Settled(BaseModel):
    """A pending send's state as the store holds it: the record, its status and its outcome."""

    model_config = ConfigDict(frozen=True)

    pending: HeldSend
    status: Status
    outcome: dict[str, Any] | None = None


class PendingError(ToolsError):
    """Base of the pending-send errors."""


class PendingUnavailable(PendingError):
    """Raised when the shared state cannot be reached: nothing was held or sent; try again shortly."""


REFUSALS: Final[dict[str, str]] = {
    "missing": "This confirmation is not known here: it is forged or long expired. Nothing was sent.",
    "expired": "This send was not confirmed within 10 minutes and has expired. Nothing was sent.",
    "other-grant": "This confirmation belongs to another sign-in. Nothing was sent.",
    "forged": "This confirmation is not valid: it was altered or made by someone else. Nothing was sent.",
    "other-send": "This confirmation was made for a different send. Nothing was sent.",
    Status.CONFIRMING: "This send was already confirmed and is being sent. It was not sent again.",
    Status.SENT: "This send was already confirmed and sent. It was not sent again.",
    Status.FAILED: "This send was already confirmed, and OpenPhone refused it. It was not sent again.",
    Status.CANCELLED: "This send was cancelled. Nothing was sent.",
}


class NotPending(PendingError):
    """Raised when a pending send cannot be settled; `reason` is a key of `REFUSALS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSALS[reason])
        self.reason = reason


class PendingStore(Protocol):
    """The pending sends every machine sees. Every method raises `PendingUnavailable`."""

    async def put(self, pending: HeldSend, findable: bool = False) -> None:
        """Record `pending` as PENDING until its expiry; `findable` by its grant and digest too."""

    async def find(self, grant_id: str, digest: str) -> Settled | None:
        """The latest findable pending send of this grant with this digest, while kept, else None."""

    async def get(self, pending_id: str) -> Settled | None:
        """The pending send `pending_id`, while it is kept, else None."""

    async def forget(self, pending: HeldSend) -> None:
        """Stop `find` from returning `pending` (a newer one of the same grant and digest stays)."""

    async def settle(self, pending_id: str, grant_id: str, decision: Decision) -> HeldSend:
        """Move a PENDING send of `grant_id` to CONFIRMING or CANCELLED, atomically, once.

        Raises `NotPending` for an unknown, expired, other grant's or already settled send."""

    async def finish(self, pending_id: str, status: Status, outcome: dict[str, Any]) -> None:
        """Record a CONFIRMING send's end (SENT or FAILED) and the answer it gave."""


def new_pending_id() -> str:
    return secrets.token_urlsafe(PENDING_ID_BYTES)


class MemoryPendingStore:
    """`PendingStore` in this process; no await between a check and its write, so settling is atomic."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._records: dict[str, Settled] = {}
        self._index: dict[tuple[str, str], str] = {}

    async def put(self, pending: HeldSend, findable: bool = False) -> None:
        self._prune()
        self._records[pending.id] = Settled(pending=pending, status=Status.PENDING)
        if findable:
            self._index[(pending.grant_id, pending.digest)] = pending.id

    async def find(self, grant_id: str, digest: str) -> Settled | None:
        pending_id = self._index.get((grant_id, digest))
        return await self.get(pending_id) if pending_id is not None else None

    async def get(self, pending_id: str) -> Settled | None:
        record = self._records.get(pending_id)
        if record is None or self._clock() >= record.pending.expires_at + OUTCOME_KEPT_SECONDS:
            return None
        return record

    async def forget(self, pending: HeldSend) -> None:
        key = (pending.grant_id, pending.digest)
        if self._index.get(key) == pending.id:
            del self._index[key]

    async def settle(self, pending_id: str, grant_id: str, decision: Decision) -> HeldSend:
        record = await self.get(pending_id)
        if record is None:
            raise NotPending("missing")
        if record.pending.grant_id != grant_id:
            raise NotPending("other-grant")
        if record.status is not Status.PENDING:
            raise NotPending(record.status)
        if self._clock() >= record.pending.expires_at:
            raise NotPending("expired")
        status = Status.CONFIRMING if decision == "confirm" else Status.CANCELLED
        self._records[pending_id] = record.model_copy(update={"status": status})
        return record.pending

    async def finish(self, pending_id: str, status: Status, outcome: dict[str, Any]) -> None:
        record = self._records.get(pending_id)
        if record is not None:
            self._records[pending_id] = record.model_copy(update={"status": status, "outcome": outcome})

    def _prune(self) -> None:
        now = self._clock()
        for pending_id, record in list(self._records.items()):
            if now >= record.pending.expires_at + OUTCOME_KEPT_SECONDS:
                del self._records[pending_id]
                self._index.pop((record.pending.grant_id, record.pending.digest), None)


class Outgoing(Protocol):
    """What the send guard hands its hold hook (`tools.sends.PendingSend`): who sends what to whom."""

    @property
    def sender(self) -> str: ...

    @property
    def recipients(self) -> tuple[str, ...]: ...

    @property
    def content(self) -> str: ...


def request_of(outgoing: Outgoing) -> SendRequest:
    return SendRequest(sender=outgoing.sender, recipients=outgoing.recipients, text=outgoing.content)


async def hold_for_a_person(outgoing: Outgoing) -> None:
    """The hold hook of a call nobody confirmed: the send waits for a person. Raises `SendHeld`."""
    raise SendHeld(request_of(outgoing))


def pass_confirmed(digest: str) -> Callable[[Outgoing], Awaitable[None]]:
    """The hold hook delivering a confirmed send: it lets through only the send with `digest`.

    Raises `ToolError` when what would be sent (checked again against the grant) is no longer what
    the person confirmed.
    """

    async def hold(outgoing: Outgoing) -> None:
        if not hmac.compare_digest(request_of(outgoing).digest(), digest):
            raise ToolError("What would be sent is not what the person confirmed. Nothing was sent.")

    return hold
