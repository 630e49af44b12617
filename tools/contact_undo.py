"""`undo-contact-change`: reverse one contact write within 5 minutes of it (issue 25).

A created contact is deleted; an updated one gets back the fields read just before the write; a
deleted one is created again from the copy read before the delete, under a new id (OpenPhone
cannot restore an id). Refused, with nothing changed, when the contact changed since (its
`updatedAt`), or the token was used, expired, made by another credential or altered. Messages
cannot be unsent: there is no undo for a text.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools.arguments import Arguments
from tools.errors import OpenPhoneError, UndoRefused
from tools.registry import Tool, ToolAnnotations, ToolContext
from tools.resources import Contact, Wire
from tools.scopes import CONTACTS_WRITE
from tools.undo import MAX_UNDO_TOKEN_CHARS, Change, UndoBook, UndoCode, UndoReceipt, UndoRecord

UNDO_NOTE = (
    " Returns an undoToken: undo-contact-change reverses this within 5 minutes (texts cannot be unsent)."
)


class UndoArgs(Arguments):
    undo_token: str = Field(
        min_length=1, max_length=MAX_UNDO_TOKEN_CHARS, description="The undoToken a contact write returned."
    )


class UndoResult(Wire):
    change: Change
    undone: bool
    contact_id: str | None = Field(description="The contact as it is now (None once a creation is undone).")
    previous_contact_id: str
    note: str


def book(context: ToolContext) -> UndoBook:
    if context.undo is None:
        raise UndoRefused(UndoCode.UNAVAILABLE, "Undo is not available on this gateway.")
    return context.undo


def receipt(
    context: ToolContext,
    change: Change,
    contact_id: str,
    restore: dict[str, Any] | None,
    updated_at: str | None,
) -> dict[str, Any]:
    """The undo fields a write adds to its result (none when this gateway offers no undo)."""
    if context.undo is None:
        return {}
    issued: UndoReceipt = context.undo.issue(change, contact_id, restore, updated_at, context.credential)
    return issued.model_dump()


async def _unchanged_since(record: UndoRecord, context: ToolContext) -> None:
    try:
        current = await context.openphone.get_contact(record.contact_id)
    except OpenPhoneError as exc:
        if exc.status == 404:
            raise UndoRefused(UndoCode.CHANGED, "The contact was deleted since this change.") from None
        raise
    if current.updated_at != record.updated_at:
        raise UndoRefused(
            UndoCode.CHANGED, "The contact was changed again since; undo would lose that change."
        )


async def undo_contact_change(args: UndoArgs, context: ToolContext) -> UndoResult:
    undo = book(context)
    record = undo.open(args.undo_token, context.credential)
    # Spent before the updatedAt check: a contact changed since can never match again, so the token
    # is worthless either way, and a reused token is reported as used rather than as changed.
    await undo.spend(record)
    if record.change != "deleted":
        await _unchanged_since(record, context)
    if record.change == "created":
        await context.openphone.delete_contact(record.contact_id)
        return UndoResult(
            change="created",
            undone=True,
            contact_id=None,
            previous_contact_id=record.contact_id,
            note="The contact created by that change was deleted.",
        )
    if record.change == "updated":
        restored = await context.openphone.update_contact(record.contact_id, record.restore or {})
        return UndoResult(
            change="updated",
            undone=True,
            contact_id=restored.id,
            previous_contact_id=record.contact_id,
            note="The contact's fields are back to what they were before that change.",
        )
    recreated: Contact = await context.openphone.create_contact(record.restore or {})
    return UndoResult(
        change="deleted",
        undone=True,
        contact_id=recreated.id,
        previous_contact_id=record.contact_id,
        note=f"The deleted contact was created again with a new id, {recreated.id}.",
    )


UNDO_CONTACT_CHANGE = Tool(
    name="undo-contact-change",
    title="Undo a contact change",
    description=(
        "Reverse one create-contact, update-contact or delete-contact within 5 minutes, with the "
        "undoToken it returned: a created contact is deleted, an update's previous fields come back, a "
        "deleted contact is created again under a new id. Each token works once, only for the "
        "connection that made the change, and not after the contact changed again. Texts cannot be "
        "unsent: there is no undo for send-message or bulk-messages."
    ),
    input_model=UndoArgs,
    output_model=UndoResult,
    handler=undo_contact_change,
    annotations=ToolAnnotations(read_only=False, destructive=True, idempotent=False, open_world=False),
    scope=CONTACTS_WRITE,
)
