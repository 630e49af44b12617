"""`bulk-messages`: one text to up to 100 recipients, one send each, never anyone twice.

OpenPhone takes one `to` per send (openphone-api-notes.md §2.1), so this sends once per distinct
recipient (duplicates after E.164 normalisation are skipped), a few at a time under the per-key
pacer. A failed recipient is an outcome, not an exception. A send that has started is shielded from
cancellation, so when the caller cancels, the sends already in flight finish and are reported
(through `notifications/progress`, one per recipient), and no further send starts: what went out is
exactly what was reported.
"""

from __future__ import annotations

import logging
from typing import Annotated, Final, Literal

import anyio
from pydantic import BaseModel, Field

from tools.arguments import Arguments
from tools.errors import OpenPhoneError
from tools.messages import Content, deliver_message
from tools.phone import InboxRef, PhoneNumber
from tools.registry import Tool, ToolAnnotations, ToolContext
from tools.resources import Wire
from tools.scopes import MESSAGES_WRITE
from tools.sends import PendingSend
from tools.views import BULK_VIEW

logger = logging.getLogger(__name__)

BULK_MAX: Final = 100
BULK_CONCURRENCY: Final = 4
# After these, every later send would fail the same way, so none is attempted.
_STOP_STATUSES: Final = frozenset({401, 402})


class BulkMessagesArgs(Arguments):
    from_: InboxRef = Field(alias="from")
    to: Annotated[
        list[PhoneNumber],
        Field(min_length=1, max_length=BULK_MAX, description="1-100 recipients, E.164 such as +14155550123."),
    ]
    content: Content


class Outcome(Wire):
    to: str
    status: Literal["sent", "failed", "duplicate", "not-sent"] = Field(
        description="sent; failed (see error); duplicate (skipped, already sent to above); "
        "not-sent (stopped after an error every send would hit)."
    )
    message_id: str | None = None
    error: str | None = None
    may_have_been_sent: bool = Field(
        default=False, description="True when the failure came after OpenPhone may have accepted the send."
    )


class BulkMessagesResult(Wire):
    audit_id: str = Field(description="Names this send in the gateway's audit trail.")
    sent: int
    failed: int
    duplicates: int
    not_sent: int
    results: list[Outcome] = Field(description="One per recipient given, in the order given.")


async def bulk_messages(args: BulkMessagesArgs, context: ToolContext) -> BaseModel:
    """Check the whole list against the grant before anyone is sent to, then deliver it."""
    api = context.openphone
    pending = await context.sends.prepare(api, "bulk-messages", args.from_, args.to, args.content)
    held = await context.sends.authorize(pending)
    if held is not None:
        return held
    return _summary(pending.audit_id, args.to, await deliver_bulk(pending, context))


async def deliver_bulk(pending: PendingSend, context: ToolContext) -> list[Outcome]:
    """Send a checked bulk send to each of its distinct recipients: counted first, refused ones refunded.

    The outcomes are in the order of `pending.recipients`.
    """
    api = context.openphone
    recipients = pending.recipients
    ticket = await context.sends.reserve(pending)
    outcomes: list[Outcome | None] = [None] * len(recipients)
    gate = anyio.Semaphore(BULK_CONCURRENCY)
    done = 0
    stop: OpenPhoneError | None = None

    async def send(index: int, number: str) -> None:
        nonlocal done, stop
        async with gate:
            if stop is not None:
                ticket.refund(index)
                outcomes[index] = Outcome(to=number, status="not-sent", error=str(stop))
                return
            with anyio.CancelScope(shield=True):
                try:
                    message = await api.send_message(pending.sender, number, pending.content, None, None)
                except OpenPhoneError as exc:
                    if exc.status in _STOP_STATUSES:
                        stop = exc
                    if not exc.may_have_happened:
                        ticket.refund(index)
                    outcome = Outcome(
                        to=number, status="failed", error=str(exc), may_have_been_sent=exc.may_have_happened
                    )
                else:
                    outcome = Outcome(to=number, status="sent", message_id=message.id)
                outcomes[index] = outcome
                done += 1
                await context.report_progress(done, len(recipients), f"{outcome.status}: {number}")

    try:
        async with anyio.create_task_group() as group:
            for index, number in enumerate(recipients):
                group.start_soon(send, index, number)
    except anyio.get_cancelled_exc_class():
        # The caller is gone, so the log is where "exactly which went out" is kept (ids, never numbers).
        sent = sorted(outcome.message_id for outcome in outcomes if outcome and outcome.message_id)
        logger.info(
            "bulk-messages cancelled: %d of %d recipients sent (message ids: %s)",
            len(sent),
            len(recipients),
            ", ".join(sent),
        )
        # Recipients never started were reserved but not sent: give them back, shielded.
        for index, outcome in enumerate(outcomes):
            if outcome is None:
                ticket.refund(index)
        with anyio.CancelScope(shield=True):
            await ticket.close(sent=len(sent))
        raise
    results = [outcome for outcome in outcomes if outcome is not None]
    await ticket.close(sent=sum(1 for outcome in results if outcome.status == "sent"))
    return results


async def deliver(pending: PendingSend, context: ToolContext) -> BaseModel:
    """Deliver a pending send of either send tool, e.g. once a person confirmed it (issue 23).

    The caller runs `Sends.prepare` again first, so the inbox and new-numbers rules are re-checked
    at delivery; the hold is what the confirmation replaces, and nothing else is skipped.
    """
    if pending.tool == "bulk-messages":
        return _summary(pending.audit_id, list(pending.recipients), await deliver_bulk(pending, context))
    return await deliver_message(pending, context)


def _summary(audit_id: str, given: list[str], delivered: list[Outcome]) -> BulkMessagesResult:
    """One outcome per number given, in order: each first appearance's delivery, each repeat a duplicate."""
    by_number = {outcome.to: outcome for outcome in delivered}
    seen: set[str] = set()
    results = []
    for number in given:
        results.append(Outcome(to=number, status="duplicate") if number in seen else by_number[number])
        seen.add(number)
    return BulkMessagesResult(
        audit_id=audit_id,
        sent=sum(1 for outcome in results if outcome.status == "sent"),
        failed=sum(1 for outcome in results if outcome.status == "failed"),
        duplicates=sum(1 for outcome in results if outcome.status == "duplicate"),
        not_sent=sum(1 for outcome in results if outcome.status == "not-sent"),
        results=results,
    )


BULK_MESSAGES: Tool[BulkMessagesArgs, BaseModel] = Tool(
    name="bulk-messages",
    title="Send a text to many recipients",
    description=(
        "Send the same SMS from one of your numbers to 1-100 recipients, one message each. Duplicate "
        "numbers are sent once. The connection's grant is checked for the whole list before anyone is "
        "sent to: it sends at once (within a daily allowance), waits for a person, or is refused. "
        "Returns each recipient's outcome (sent with message id, failed with the "
        "reason, duplicate); some may fail while others are sent. Reports progress per recipient."
    ),
    input_model=BulkMessagesArgs,
    output_model=BulkMessagesResult,
    handler=bulk_messages,
    annotations=ToolAnnotations(read_only=False, destructive=False, idempotent=False, open_world=True),
    scope=MESSAGES_WRITE,
    view=BULK_VIEW,
)
