"""Every send goes through here: the grant's inboxes, its new-numbers rule, then its send rule.

`send-message` and `bulk-messages` build a `PendingSend` with `Sends.prepare`, which resolves the
sender and refuses an inbox outside the grant, then refuses the whole send when any recipient is a
number the inbox was never in touch with and the grant does not allow new numbers, before anything
reaches OpenPhone. `Sends.authorize` applies the send rule: DENY refuses, CONFIRM hands the send to
the hold hook (a person confirms it; until that exists the send is refused), ALLOWANCE lets it
through. `Sends.reserve` then counts its recipients against the daily allowance before the upstream
call, and the ticket it returns gives back the recipients OpenPhone refused and writes the audit
record. A send a person confirmed is delivered through `reserve` as well, after `prepare` ran again.

"In touch" means the sending inbox has a message thread with the number. OpenPhone's API cannot
look a contact up by its number, so a contact never written to is treated as new: stricter, never
looser, than the rule the person chose.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TypeVar

import anyio
from pydantic import BaseModel

from tools.allowance import Allowance, MemoryAllowance, Reservation
from tools.errors import ToolError
from tools.grant import Grant, SendRule

if TYPE_CHECKING:
    from tools.api import OpenPhoneAPI

ItemT = TypeVar("ItemT")

AUDIT_ID_BYTES: Final = 12
# Requests in flight when a bulk send checks its recipients' threads.
CHECK_CONCURRENCY: Final = 4
CONFIRM_UNAVAILABLE: Final = (
    "Nothing was sent: this connection asks a person before each send, and sending needs a person's "
    "confirmation, which this gateway version cannot ask for yet."
)


@dataclass(frozen=True, slots=True)
class PendingSend:
    """One send, checked against the grant and not yet made: the same text from one inbox to each
    distinct recipient. `audit_id` names it in the answer and the access line."""

    tool: str
    sender: str
    recipients: tuple[str, ...]
    content: str
    audit_id: str
    user_id: str | None = None
    set_inbox_status: str | None = None


@dataclass(frozen=True, slots=True)
class SendAudit:
    """What an access line records about a send: never its text or a number in clear."""

    audit_id: str
    grant_digest: str
    client_name: str | None
    recipients: int
    outcome: str


# None lets the send through (a send a person confirmed); a model stands in for the send; a hold may
# also raise (`tools.pending.SendHeld`: the send waits for a person).
Hold = Callable[[PendingSend], Awaitable[BaseModel | None]]
AuditSink = Callable[[SendAudit], None]


async def refuse_unconfirmable(pending: PendingSend) -> BaseModel:
    """The hold hook until a person can be asked: the send is refused, nothing reaches OpenPhone."""
    raise ToolError(CONFIRM_UNAVAILABLE)


def ignore_audit(record: SendAudit) -> None:
    """The audit sink used when nobody records sends."""


@dataclass(slots=True)
class Ticket:
    """A send's recipients, reserved against the allowance (when the rule counts); see `Sends.reserve`."""

    sends: Sends
    pending: PendingSend
    counted: bool
    _refunded: list[int] = field(default_factory=list)

    def refund(self, index: int) -> None:
        """OpenPhone refused recipient `index` (its place in `pending.recipients`): it is not counted."""
        self._refunded.append(index)

    async def close(self, sent: int) -> None:
        """Return the refused recipients to the allowance and record the outcome of the send."""
        if self.counted and self._refunded:
            await self.sends.allowance.refund(self.sends.grant_id, self.pending.audit_id, self._refunded)
        total = len(self.pending.recipients)
        outcome = "sent" if sent == total else "failed" if sent == 0 else "partly-sent"
        self.sends.record(self.pending, outcome)


@dataclass(frozen=True, slots=True)
class Sends:
    """The send guard of one caller: their grant, where its allowance is counted, and the hooks."""

    grant: Grant
    grant_id: str
    allowance: Allowance = field(default_factory=MemoryAllowance)
    hold: Hold = refuse_unconfirmable
    audit: AuditSink = ignore_audit
    client_name: str | None = None

    async def inbox_id(self, api: OpenPhoneAPI, inbox: str) -> str:
        """The `PN…` id of an inbox reference the grant allows, else a ToolError naming what was granted."""
        inbox_id = await api.inbox_id(inbox)
        if not self.grant.allows_inbox(inbox_id):
            raise ToolError(
                f"{inbox} is not an inbox this connection may use. It was granted: "
                f"{self.grant.describe_inboxes()}."
            )
        return inbox_id

    def granted(self, items: Iterable[ItemT], inbox_of: Callable[[ItemT], str | None]) -> list[ItemT]:
        """The items of inboxes the grant allows (an item of no known inbox only under every inbox)."""
        if self.grant.inboxes is None:
            return list(items)
        return [
            item for item in items if (inbox := inbox_of(item)) is not None and self.grant.allows_inbox(inbox)
        ]

    def check_inbox_of(self, inbox_id: str | None, what: str) -> None:
        """Refuse a record (`what`, e.g. "This message") of an inbox outside the grant."""
        if self.grant.inboxes is not None and (inbox_id is None or not self.grant.allows_inbox(inbox_id)):
            raise ToolError(
                f"{what} belongs to an inbox this connection may not use. It was granted: "
                f"{self.grant.describe_inboxes()}."
            )

    async def check_call(self, api: OpenPhoneAPI, call_id: str) -> None:
        """Refuse a call of an inbox outside the grant (read first only when the grant names inboxes)."""
        if self.grant.inboxes is not None:
            self.check_inbox_of((await api.get_call(call_id)).phone_number_id, "This call")

    async def _sender(self, api: OpenPhoneAPI, inbox: str) -> str:
        """A sender the grant allows: as given under a grant of every inbox (nothing to look up)."""
        return inbox if self.grant.inboxes is None else await self.inbox_id(api, inbox)

    async def prepare(
        self,
        api: OpenPhoneAPI,
        tool: str,
        sender: str,
        recipients: Sequence[str],
        content: str,
        *,
        user_id: str | None = None,
        set_inbox_status: str | None = None,
    ) -> PendingSend:
        """A send checked against the grant's inboxes and new-numbers rule; nothing is sent yet."""
        checked = await self._sender(api, sender)
        distinct = tuple(dict.fromkeys(recipients))
        pending = PendingSend(
            tool, checked, distinct, content, secrets.token_hex(AUDIT_ID_BYTES), user_id, set_inbox_status
        )
        if not self.grant.new_numbers:
            new = await _never_in_touch(api, await api.inbox_id(checked), distinct)
            if new:
                self.record(pending, "refused-new-number")
                raise ToolError(
                    f"Nothing was sent: {', '.join(new)} never exchanged a message with {sender}, and this "
                    "connection may only text numbers it has been in touch with. Ask the person to send it "
                    f"themselves, or to reconnect allowing new numbers. (audit id {pending.audit_id})"
                )
        return pending

    async def authorize(self, pending: PendingSend) -> BaseModel | None:
        """Apply the send rule: None lets the send through; the hold's answer stands in for it."""
        if self.grant.send is SendRule.DENY:
            self.record(pending, "refused-deny")
            raise ToolError(
                "Nothing was sent: this connection may not send messages (its person chose 'never "
                f"send'). (audit id {pending.audit_id})"
            )
        if self.grant.send is SendRule.CONFIRM:
            self.record(pending, "held")
            return await self.hold(pending)
        return None

    async def reserve(self, pending: PendingSend) -> Ticket:
        """Count the send's recipients before anything reaches OpenPhone (under ALLOWANCE).

        Raises a ToolError saying how many are left and when the count resets when they do not
        fit, and `SendCounterUnavailable` when the count cannot be reached: never sent uncounted.
        """
        if self.grant.send is not SendRule.ALLOWANCE:
            return Ticket(self, pending, counted=False)
        count = len(pending.recipients)
        try:
            reservation = await self.allowance.reserve(
                self.grant_id, pending.audit_id, count, self.grant.daily_limit
            )
        except ToolError:
            self.record(pending, "refused-unavailable")
            raise
        if not reservation.granted:
            self.record(pending, "refused-allowance")
            raise ToolError(_past_allowance(count, self.grant.daily_limit, reservation, pending.audit_id))
        return Ticket(self, pending, counted=True)

    def record(self, pending: PendingSend, outcome: str) -> None:
        """Hand the send's audit record to the sink (the access line)."""
        self.audit(
            SendAudit(
                pending.audit_id, self.grant.digest(), self.client_name, len(pending.recipients), outcome
            )
        )


def _past_allowance(count: int, limit: int, reservation: Reservation, audit_id: str) -> str:
    """The refusal of a send past the allowance: how many are left and when this send fits again."""
    head = f"Nothing was sent: this connection may text {limit} recipients in any 24 hours without asking."
    if reservation.resets_at is None:
        return f"{head} This send has {count}, more than that. (audit id {audit_id})"
    when = datetime.fromtimestamp(reservation.resets_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{head} {reservation.remaining} left now; this send needs {count}, which fits again at {when}. "
        f"(audit id {audit_id})"
    )


async def _never_in_touch(api: OpenPhoneAPI, inbox_id: str, numbers: Sequence[str]) -> list[str]:
    """The numbers with no message thread with the inbox, in the order given."""
    found = [False] * len(numbers)
    gate = anyio.Semaphore(CHECK_CONCURRENCY)

    async def check(index: int, number: str) -> None:
        async with gate:
            page = await api.list_messages(inbox_id, [number], max_results=1)
        found[index] = bool(page.data)

    async with anyio.create_task_group() as group:
        for index, number in enumerate(numbers):
            group.start_soon(check, index, number)
    return [number for number, known in zip(numbers, found, strict=True) if not known]
