"""What the sandbox keeps of what requests add, so a demo left running holds a steady size.

Sent messages, conversations opened by a send and created contacts are kept up to a cap each, and
the oldest goes first; the seeded workspace (data.py) is never counted and never evicted. The request
log keeps the most recent requests. This module only orders ids and says which to drop; the state
(state.py) drops the records.
"""

from __future__ import annotations

from typing import Final

REQUEST_LOG_SIZE: Final = 1_000
"""The most recent `(method, path)` pairs kept in `SandboxState.requests`."""
MESSAGES_PER_CONVERSATION: Final = 100
"""Sent messages kept per conversation."""
SENT_MESSAGES: Final = 1_000
"""Sent messages kept in all."""
OPENED_CONVERSATIONS: Final = 500
"""Conversations opened by a send (to a new participant) kept; evicting one drops its messages."""
CREATED_CONTACTS: Final = 1_000
"""Contacts created by requests kept."""


def _oldest(ids: dict[str, None] | dict[str, str]) -> str:
    return next(iter(ids))


class Retention:
    """The ids of records that requests added, oldest first, and which to evict past each cap."""

    def __init__(self) -> None:
        self._messages: dict[str, str] = {}
        """Sent message id -> its conversation id, oldest first."""
        self._threads: dict[str, dict[str, None]] = {}
        """Conversation id -> the ids of its sent messages, oldest first."""
        self._conversations: dict[str, None] = {}
        self._contacts: dict[str, None] = {}

    @property
    def sent_message_ids(self) -> list[str]:
        """The kept sent messages' ids, in the order they were sent."""
        return list(self._messages)

    def sent(self, message_id: str, conversation_id: str) -> list[str]:
        """Keep a sent message; returns the ids of the sent messages to drop (at most one)."""
        self._messages[message_id] = conversation_id
        thread = self._threads.setdefault(conversation_id, {})
        thread[message_id] = None
        # One more message adds one to its thread and one to the total: one eviction restores both caps.
        if len(thread) > MESSAGES_PER_CONVERSATION:
            return self._drop_message(_oldest(thread))
        if len(self._messages) > SENT_MESSAGES:
            return self._drop_message(_oldest(self._messages))
        return []

    def opened(self, conversation_id: str) -> tuple[list[str], list[str]]:
        """Keep a conversation a send opened; returns the conversation ids and message ids to drop."""
        self._conversations[conversation_id] = None
        if len(self._conversations) <= OPENED_CONVERSATIONS:
            return [], []
        evicted = _oldest(self._conversations)
        del self._conversations[evicted]
        thread = self._threads.pop(evicted, {})
        for message_id in thread:
            del self._messages[message_id]
        return [evicted], list(thread)

    def created(self, contact_id: str) -> list[str]:
        """Keep a created contact; returns the ids of the contacts to drop (at most one)."""
        self._contacts[contact_id] = None
        if len(self._contacts) <= CREATED_CONTACTS:
            return []
        evicted = _oldest(self._contacts)
        del self._contacts[evicted]
        return [evicted]

    def deleted(self, contact_id: str) -> None:
        """A contact was deleted by a request: it no longer counts against the cap."""
        self._contacts.pop(contact_id, None)

    def _drop_message(self, message_id: str) -> list[str]:
        conversation_id = self._messages.pop(message_id)
        del self._threads[conversation_id][message_id]
        return [message_id]
