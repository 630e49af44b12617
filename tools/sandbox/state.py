"""The sandbox workspace and what each operation does to it, as sync functions over plain records.

`SandboxState()` holds a deep copy of the seed (data.py) plus what requests change. Its clock, ids and
trace ids are counters, so the same requests always produce the same answers. Lists are returned
newest first (messages and calls by `createdAt`, conversations by `lastActivityAt`, contacts by
`createdAt`); the spec only says "chronological" for messages and "most recent first" for
conversations, and one order everywhere keeps pagination easy to reason about.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Final

from tools.sandbox.data import (
    CALLS,
    CONTACTS,
    CONVERSATIONS,
    DONE_CONVERSATION_IDS,
    MESSAGES,
    OWNER_USER_ID,
    PHONE_NUMBERS,
    PLAN_INELIGIBLE_CALL_IDS,
    RECORDING_INELIGIBLE_CALL_IDS,
    RECORDINGS,
    SANDBOX_EPOCH,
    SUMMARIES,
    TRANSCRIPTS,
    VOICEMAILS,
    WORKSPACE_USERS,
    Record,
    timestamp,
)
from tools.sandbox.errors import Conflict, Forbidden, NotFound, SandboxError
from tools.sandbox.faults import Faults
from tools.sandbox.retention import REQUEST_LOG_SIZE, Retention
from tools.sandbox.rules import (
    PN_ID,
    CreateContactBody,
    SendMessageBody,
    UpdateContactBody,
    encode_page_token,
    resolve_custom_fields,
)

TRACE_BASE: Final = 5_640_373_784_117_800_000  # traces are 19-digit strings (notes §3.1)
Window = tuple[datetime | None, datetime | None]
ANY_TIME: Final[Window] = (None, None)


def _by_id(records: Iterable[Record]) -> dict[str, Record]:
    return {str(record["id"]): record for record in deepcopy(list(records))}


class SandboxState:
    """One sandbox workspace: the seeded data, what requests changed, and the fault knobs.

    Tests read `sent_messages` (accepted sends still kept, in order), `contacts` (id -> contact) and
    `requests` (the most recent `(method, path)` pairs received) and set knobs on `faults`. What
    requests add is capped, oldest evicted first (retention.py); the seeded data is never evicted.
    """

    def __init__(self) -> None:
        self.phone_numbers: list[Record] = deepcopy(list(PHONE_NUMBERS))
        self.contacts = _by_id(CONTACTS)
        self.conversations = _by_id(CONVERSATIONS)
        self.messages = _by_id(MESSAGES)
        self.calls = _by_id(CALLS)
        self.transcripts: dict[str, Record] = deepcopy(TRANSCRIPTS)
        self.summaries: dict[str, Record] = deepcopy(SUMMARIES)
        self.recordings: dict[str, list[Record]] = deepcopy(RECORDINGS)
        self.ineligible_call_ids: set[str] = set(PLAN_INELIGIBLE_CALL_IDS)
        """Calls whose transcript and summary answer 403 (plan not eligible); add ids to extend it."""
        self.done_conversation_ids: set[str] = set(DONE_CONVERSATION_IDS)
        self.users: list[Record] = deepcopy(list(WORKSPACE_USERS))
        self.voicemails: dict[str, Record] = deepcopy(VOICEMAILS)
        self.recording_ineligible_call_ids: set[str] = set(RECORDING_INELIGIBLE_CALL_IDS)
        """Calls whose recordings answer 403 (no call recording on the plan); add ids to extend it."""
        self.retention = Retention()
        self._requests: deque[tuple[str, str]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.faults = Faults()
        self._ticks = count()
        self._serials = count(1)
        self._traces = count()

    @property
    def requests(self) -> list[tuple[str, str]]:
        """The most recent requests received, oldest first: up to REQUEST_LOG_SIZE."""
        return list(self._requests)

    def record_request(self, method: str, path: str) -> None:
        self._requests.append((method, path))

    @property
    def sent_messages(self) -> list[Record]:
        """The accepted sends still kept, in the order they were sent."""
        return [self.messages[message_id] for message_id in self.retention.sent_message_ids]

    def now(self) -> str:
        """The next reading of the sandbox clock: SANDBOX_EPOCH, then one second later each time."""
        return timestamp(SANDBOX_EPOCH + timedelta(seconds=next(self._ticks)))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}sandbox{next(self._serials):06d}"

    def new_contact_id(self) -> str:
        """A 24-hex id without prefix, as contact ids are (notes §2.10)."""
        return f"6740ffff{next(self._serials):016x}"

    def next_trace(self) -> str:
        return str(TRACE_BASE + next(self._traces))

    def inbox(self, ref: str) -> Record | None:
        """The workspace phone number whose id or E.164 number is `ref`."""
        return next((pn for pn in self.phone_numbers if ref in (pn["id"], pn["number"])), None)

    def require_inbox(self, phone_number_id: str) -> Record:
        inbox = self.inbox(phone_number_id)
        if inbox is None:
            raise NotFound("Phone number not found")
        return inbox


def paginate(items: Sequence[Record], offset: int, max_results: int, resource: str) -> Record:
    """One page: `nextPageToken` is null on the last page (notes §3.3, changelog 1.1.2)."""
    page = list(items[offset : offset + max_results])
    end = offset + len(page)
    token = encode_page_token(resource, end) if end < len(items) else None
    return {"data": page, "totalItems": len(items), "nextPageToken": token}


def _within(stamp: str | None, window: Window) -> bool:
    after, before = window
    if stamp is None:
        return after is None and before is None
    moment = datetime.fromisoformat(stamp)
    return (after is None or moment > after) and (before is None or moment < before)


def _newest_first(records: Iterable[Record], key: str = "createdAt") -> list[Record]:
    return sorted(records, key=lambda record: (record[key] or "", record["id"]), reverse=True)


@dataclass(frozen=True)
class ActivityFilter:
    """What `GET /v1/messages` or `GET /v1/calls` was asked for (notes §2.2, §2.4); None means "any".

    `userId` filters by the user who sent the message or placed or took the call. The calls docs say
    it "defaults to the workspace owner", which changelog 1.0.1 contradicts; no default is applied.
    """

    phone_number_id: str
    participants: tuple[str, ...]
    created: Window = ANY_TIME
    user_id: str | None = None

    def admits(self, activity: Record) -> bool:
        return _within(activity["createdAt"], self.created) and self.user_id in (None, activity["userId"])


def select_messages(state: SandboxState, wanted: ActivityFilter) -> list[Record]:
    """The inbox's messages with exactly these participants (the inbox's own number excluded)."""
    inbox = state.require_inbox(wanted.phone_number_id)
    return _newest_first(
        message
        for message in state.messages.values()
        if message["phoneNumberId"] == inbox["id"]
        and {message["from"], *message["to"]} - {inbox["number"]} == set(wanted.participants)
        and wanted.admits(message)
    )


def require_message(state: SandboxState, message_id: str) -> Record:
    message = state.messages.get(message_id)
    if message is None:
        raise NotFound("Message not found")
    return message


def select_calls(state: SandboxState, wanted: ActivityFilter) -> list[Record]:
    """The inbox's one-to-one calls with the one participant."""
    inbox = state.require_inbox(wanted.phone_number_id)
    return _newest_first(
        call
        for call in state.calls.values()
        if call["phoneNumberId"] == inbox["id"]
        and call["participants"] == list(wanted.participants)
        and wanted.admits(call)
    )


def select_phone_numbers(state: SandboxState, user_id: str | None) -> list[Record]:
    """The workspace's numbers, or those `user_id` is a user of."""
    return [pn for pn in state.phone_numbers if user_id is None or user_id in [u["id"] for u in pn["users"]]]


@dataclass(frozen=True)
class ConversationFilter:
    """What `GET /v1/conversations` was asked for (notes §2.11); None means "any"."""

    inbox_refs: tuple[str, ...] | None = None
    user_id: str | None = None
    created: Window = ANY_TIME
    updated: Window = ANY_TIME
    exclude_inactive: bool = False


def select_conversations(state: SandboxState, wanted: ConversationFilter) -> list[Record]:
    """Matching conversations, most recent activity first; done ones count as inactive."""
    inboxes = state.phone_numbers
    if wanted.inbox_refs is not None:
        inboxes = [pn for pn in inboxes if pn["id"] in wanted.inbox_refs or pn["number"] in wanted.inbox_refs]
    if wanted.user_id is not None:
        inboxes = [pn for pn in inboxes if any(user["id"] == wanted.user_id for user in pn["users"])]
    inbox_ids = {pn["id"] for pn in inboxes}
    return _newest_first(
        (
            conversation
            for conversation in state.conversations.values()
            if conversation["phoneNumberId"] in inbox_ids
            and _within(conversation["createdAt"], wanted.created)
            and _within(conversation["updatedAt"], wanted.updated)
            and not (wanted.exclude_inactive and conversation["id"] in state.done_conversation_ids)
        ),
        key="lastActivityAt",
    )


def send_message(state: SandboxState, body: SendMessageBody) -> Record:
    """Record an outgoing message as `queued` (notes §2.1, §4.4-5).

    `from` must be a workspace number (404 for an unknown PN id, 403 for any other number), and the
    sender one of its users. A number in `faults.failing_recipients` answers its status instead.
    """
    inbox = state.inbox(body.from_)
    if inbox is None and PN_ID.fullmatch(body.from_):
        raise NotFound("Phone number not found")
    if inbox is None:
        raise Forbidden("`from` is not a phone number of this workspace")
    members = [user["id"] for user in inbox["users"]]
    owners = [user["id"] for user in inbox["users"] if user["role"] == "owner"]
    user_id = body.user_id or (owners or members)[0]
    if user_id not in members:
        raise Forbidden("The user is not a user of this phone number")
    failure = state.faults.failing_recipients.get(body.to[0])
    if failure is not None:
        raise SandboxError(failure)
    at = state.now()
    message: Record = {
        "id": state.new_id("AC"),
        "to": list(body.to),
        "from": inbox["number"],
        "text": body.content,
        "phoneNumberId": inbox["id"],
        "direction": "outgoing",
        "userId": user_id,
        "status": "queued",
        "createdAt": at,
        "updatedAt": at,
    }
    state.messages[message["id"]] = message
    conversation_id = _note_activity(
        state, inbox["id"], body.to[0], message, is_done=body.set_inbox_status == "done"
    )
    _drop_messages(state, state.retention.sent(message["id"], conversation_id))
    return message


def _drop_messages(state: SandboxState, message_ids: Iterable[str]) -> None:
    for message_id in message_ids:
        del state.messages[message_id]


def _note_activity(
    state: SandboxState, inbox_id: str, participant: str, activity: Record, is_done: bool
) -> str:
    """Move the conversation to the top (opening one if needed); `setInboxStatus: done` marks it done.

    Returns the conversation's id.
    """
    at = activity["createdAt"]
    conversation = next(
        (
            c
            for c in state.conversations.values()
            if c["phoneNumberId"] == inbox_id and c["participants"] == [participant]
        ),
        None,
    )
    if conversation is None:
        conversation = {
            "assignedTo": None, "createdAt": at, "deletedAt": None, "id": state.new_id("CN"),
            "mutedUntil": None, "name": None, "participants": [participant], "phoneNumberId": inbox_id,
            "snoozedUntil": None,
        }  # fmt: skip
        state.conversations[conversation["id"]] = conversation
        evicted_conversations, evicted_messages = state.retention.opened(conversation["id"])
        for evicted in evicted_conversations:
            del state.conversations[evicted]
            state.done_conversation_ids.discard(evicted)
        _drop_messages(state, evicted_messages)
    conversation.update(lastActivityAt=at, lastActivityId=activity["id"], updatedAt=at)
    if is_done:
        state.done_conversation_ids.add(conversation["id"])
    else:
        state.done_conversation_ids.discard(conversation["id"])
    return str(conversation["id"])


def select_contacts(state: SandboxState, external_ids: Sequence[str], sources: Sequence[str]) -> list[Record]:
    """Contacts with one of `external_ids` and one of `sources` (an empty list means any)."""
    return _newest_first(
        contact
        for contact in state.contacts.values()
        if (not external_ids or contact["externalId"] in external_ids)
        and (not sources or contact["source"] in sources)
    )


def require_contact(state: SandboxState, contact_id: str) -> Record:
    contact = state.contacts.get(contact_id)
    if contact is None:
        raise NotFound("Contact not found")
    return contact


def _refuse_duplicate(state: SandboxState, external_id: str | None, contact_id: str | None = None) -> None:
    """409 when another contact has `external_id`: our reading of the spec's undocumented 0800409."""
    if external_id is not None and any(
        contact["externalId"] == external_id and contact["id"] != contact_id
        for contact in state.contacts.values()
    ):
        raise Conflict("A contact with this externalId already exists")


def delete_contact(state: SandboxState, contact_id: str) -> None:
    require_contact(state, contact_id)
    del state.contacts[contact_id]
    state.retention.deleted(contact_id)


def create_contact(state: SandboxState, body: CreateContactBody) -> Record:
    custom_fields = resolve_custom_fields(body.custom_fields)
    _refuse_duplicate(state, body.external_id)
    at = state.now()
    contact: Record = {
        "id": state.new_contact_id(),
        "externalId": body.external_id,
        "source": body.source,
        "sourceUrl": body.source_url,
        "defaultFields": body.default_fields.model_dump(by_alias=True),
        "customFields": custom_fields,
        "createdAt": at,
        "updatedAt": at,
        "createdByUserId": body.created_by_user_id or OWNER_USER_ID,
    }
    state.contacts[contact["id"]] = contact
    for evicted in state.retention.created(contact["id"]):
        del state.contacts[evicted]
    return contact


def update_contact(state: SandboxState, contact_id: str, body: UpdateContactBody) -> Record:
    """Change only the fields sent; custom fields are merged by key. Nothing changes on an error."""
    contact = require_contact(state, contact_id)
    custom_fields = {field["key"]: field for field in contact["customFields"]}
    custom_fields.update((field["key"], field) for field in resolve_custom_fields(body.custom_fields))
    sent = body.model_fields_set
    if "external_id" in sent:
        _refuse_duplicate(state, body.external_id, contact_id)
    top = body.model_dump(by_alias=True, include={"external_id", "source", "source_url"} & sent)
    defaults = body.default_fields
    contact.update(top)
    contact["defaultFields"].update(defaults.model_dump(by_alias=True, include=defaults.model_fields_set))
    contact["customFields"] = list(custom_fields.values())
    contact["updatedAt"] = state.now()
    return contact


def _eligible_call(state: SandboxState, call_id: str, feature: str) -> Record:
    call = state.calls.get(call_id)
    if call is None:
        raise NotFound("Call not found")
    if call_id in state.ineligible_call_ids:
        raise Forbidden(f"Call {feature} are only available on the Business and Scale plans")
    return call


def call_transcript(state: SandboxState, call_id: str) -> Record:
    """The call's transcript; `absent` if never transcribed; 403 off an eligible plan (notes §2.8)."""
    call = _eligible_call(state, call_id, "transcripts")
    absent = {
        "callId": call_id,
        "createdAt": call["createdAt"],
        "dialogue": None,
        "duration": 0,
        "status": "absent",
    }
    return state.transcripts.get(call_id, absent)


def call_summary(state: SandboxState, call_id: str) -> Record:
    """The call's summary; `absent` if none was made; 403 off an eligible plan (notes §2.7)."""
    _eligible_call(state, call_id, "summaries")
    absent = {"callId": call_id, "nextSteps": None, "status": "absent", "summary": None}
    return state.summaries.get(call_id, absent)


def call_recordings(state: SandboxState, call_id: str) -> list[Record]:
    """The call's recordings, oldest first; none for an unanswered call; 403 off a plan with recording
    (notes §2.6)."""
    if call_id not in state.calls:
        raise NotFound(f"Call Recording with ID {call_id} not found")
    if call_id in state.recording_ineligible_call_ids:
        raise Forbidden("Call recordings are not available on this plan")
    return state.recordings.get(call_id, [])
