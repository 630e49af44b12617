"""What requests add to the sandbox is capped, oldest evicted first, and the seeded workspace stays."""

from __future__ import annotations

import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tools.sandbox import SandboxState
from tools.sandbox import state as workspace
from tools.sandbox.data import CONTACTS, CONVERSATIONS, JORDAN_NUMBER, MAIN_LINE_ID, MESSAGES, Record
from tools.sandbox.retention import (
    CREATED_CONTACTS,
    MESSAGES_PER_CONVERSATION,
    OPENED_CONVERSATIONS,
    REQUEST_LOG_SIZE,
    SENT_MESSAGES,
)
from tools.sandbox.rules import CreateContactBody, SendMessageBody


def _number(serial: int) -> str:
    """A US number no seeded record uses (the seed has no 303 area code)."""
    return f"+1303555{serial:04d}"


def _send(state: SandboxState, to: str) -> Record:
    body = SendMessageBody.model_validate({"from": MAIN_LINE_ID, "to": [to], "content": "Soak"})
    return workspace.send_message(state, body)


def _create_contact(state: SandboxState, serial: int) -> Record:
    body = CreateContactBody.model_validate({"defaultFields": {"firstName": f"Guest {serial}"}})
    return workspace.create_contact(state, body)


def _seeded_ids(records: tuple[Record, ...]) -> set[str]:
    return {str(record["id"]) for record in records}


@pytest.mark.anyio
async def test_the_request_log_keeps_only_the_most_recent_requests(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """Past REQUEST_LOG_SIZE requests the oldest leave the log; the newest stay, in order."""
    for serial in range(REQUEST_LOG_SIZE + 3):
        await client.get(f"/v1/nowhere/{serial}")
    assert sandbox.state.requests == [
        ("GET", f"/v1/nowhere/{serial}") for serial in range(3, REQUEST_LOG_SIZE + 3)
    ]


def test_a_conversation_keeps_its_newest_sent_messages_and_every_seeded_one() -> None:
    state = SandboxState()
    sent = [_send(state, JORDAN_NUMBER) for _ in range(MESSAGES_PER_CONVERSATION + 2)]
    assert [message["id"] for message in state.sent_messages] == [message["id"] for message in sent[2:]]
    assert sent[0]["id"] not in state.messages
    assert sent[1]["id"] not in state.messages
    assert _seeded_ids(MESSAGES) <= set(state.messages)
    assert len(state.messages) == len(MESSAGES) + MESSAGES_PER_CONVERSATION


def test_sent_messages_in_all_are_capped_oldest_first() -> None:
    per_number = MESSAGES_PER_CONVERSATION // 2
    numbers = SENT_MESSAGES // per_number + 1
    state = SandboxState()
    sent = [_send(state, _number(serial)) for serial in range(numbers) for _ in range(per_number)]
    assert len(sent) == numbers * per_number > SENT_MESSAGES
    evicted = len(sent) - SENT_MESSAGES
    assert [message["id"] for message in state.sent_messages] == [message["id"] for message in sent[evicted:]]
    assert not {message["id"] for message in sent[:evicted]} & set(state.messages)
    assert len(state.messages) == len(MESSAGES) + SENT_MESSAGES


def test_opened_conversations_are_capped_and_take_their_messages_along() -> None:
    """A send to a new number opens a conversation; past the cap the oldest goes with its messages."""
    state = SandboxState()
    first = _send(state, _number(0))
    opened_first = next(c for c in state.conversations.values() if c["participants"] == [_number(0)])
    for serial in range(1, OPENED_CONVERSATIONS + 1):
        _send(state, _number(serial))
    assert opened_first["id"] not in state.conversations
    assert first["id"] not in state.messages
    assert len(state.sent_messages) == OPENED_CONVERSATIONS
    assert _seeded_ids(CONVERSATIONS) <= set(state.conversations)
    assert len(state.conversations) == len(CONVERSATIONS) + OPENED_CONVERSATIONS
    assert _seeded_ids(MESSAGES) <= set(state.messages)


def test_created_contacts_are_capped_oldest_first_and_seeded_ones_stay() -> None:
    state = SandboxState()
    created = [_create_contact(state, serial) for serial in range(CREATED_CONTACTS + 1)]
    assert created[0]["id"] not in state.contacts
    assert {contact["id"] for contact in created[1:]} <= set(state.contacts)
    assert _seeded_ids(CONTACTS) <= set(state.contacts)
    assert len(state.contacts) == len(CONTACTS) + CREATED_CONTACTS


def test_a_deleted_contact_frees_its_place_under_the_cap() -> None:
    state = SandboxState()
    created = [_create_contact(state, serial) for serial in range(CREATED_CONTACTS)]
    workspace.delete_contact(state, str(created[-1]["id"]))
    _create_contact(state, CREATED_CONTACTS)
    assert created[0]["id"] in state.contacts
    assert len(state.contacts) == len(CONTACTS) + CREATED_CONTACTS


def test_a_seeded_contact_deleted_by_a_request_does_not_count() -> None:
    """Only created contacts count against the cap; deleting a seeded one evicts nothing else."""
    state = SandboxState()
    workspace.delete_contact(state, str(CONTACTS[0]["id"]))
    created = [_create_contact(state, serial) for serial in range(CREATED_CONTACTS + 1)]
    assert created[0]["id"] not in state.contacts
    assert len(state.contacts) == len(CONTACTS) - 1 + CREATED_CONTACTS
