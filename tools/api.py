"""The OpenPhone v1 endpoints the tools use, typed, for one API key.

`OpenPhone` is the process-wide part (the pooled client and the inbox cache); `OpenPhone.for_key`
gives the per-call `OpenPhoneAPI`. Requests are shaped as openapi-v1.json asks: arrays as repeated
query keys (`participants=a&participants=b`, §3.7 of the notes), `maxResults` always sent because the
API requires it, and `PN…` ids where only ids are accepted (list messages and list calls).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from tools.api_errors import malformed_error
from tools.client import OpenPhoneClient, QueryParams
from tools.errors import ToolError
from tools.phone import is_inbox_id
from tools.resources import (
    Call,
    CallSummary,
    Contact,
    Conversation,
    CustomFieldDefinition,
    Message,
    Page,
    PhoneNumber,
    Recording,
    Transcript,
    User,
    Voicemail,
)

ModelT = TypeVar("ModelT", bound=BaseModel)
ItemT = TypeVar("ItemT", bound=BaseModel)

INBOX_CACHE_SECONDS: Final = 60.0
INBOX_CACHE_KEYS: Final = 1024
# Numbers and their users held in all, so the cache stays bounded whatever the workspaces' sizes.
INBOX_CACHE_RECORDS: Final = 16_384


@dataclass(slots=True)
class _InboxCache:
    """Each key's phone-number list, kept briefly so resolving an inbox costs no request per call.

    At most INBOX_CACHE_KEYS lists and INBOX_CACHE_RECORDS numbers and users in all; the least
    recently stored go first, and a list larger than the whole cache is not kept.
    """

    ttl: float = INBOX_CACHE_SECONDS
    # Each key's expiry, list, and how many records (numbers and users) the list holds.
    _entries: OrderedDict[str, tuple[float, list[PhoneNumber], int]] = field(default_factory=OrderedDict)
    _held: int = 0

    def get(self, fingerprint: str) -> list[PhoneNumber] | None:
        entry = self._entries.get(fingerprint)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, fingerprint: str, numbers: list[PhoneNumber]) -> None:
        previous = self._entries.pop(fingerprint, None)
        if previous is not None:
            self._held -= previous[2]
        records = _records(numbers)
        if records > INBOX_CACHE_RECORDS:
            return
        self._entries[fingerprint] = (time.monotonic() + self.ttl, numbers, records)
        self._held += records
        while len(self._entries) > INBOX_CACHE_KEYS or self._held > INBOX_CACHE_RECORDS:
            _, (_, _, evicted) = self._entries.popitem(last=False)
            self._held -= evicted

    def __len__(self) -> int:
        """How many numbers and users are held."""
        return self._held


def _records(numbers: list[PhoneNumber]) -> int:
    return sum(1 + len(number.users) for number in numbers)


class OpenPhone:
    """Process-wide: the client and the per-key inbox cache."""

    def __init__(self, client: OpenPhoneClient) -> None:
        self.client = client
        self._inboxes = _InboxCache()

    def for_key(self, api_key: str, fingerprint: str) -> OpenPhoneAPI:
        """The API as seen by one key (`fingerprint` identifies it in caches without holding it twice)."""
        return OpenPhoneAPI(self.client, api_key, fingerprint, self._inboxes)

    async def aclose(self) -> None:
        await self.client.aclose()


class OpenPhoneAPI:
    """Typed calls to the endpoints the tools use, for one key."""

    def __init__(self, client: OpenPhoneClient, api_key: str, fingerprint: str, inboxes: _InboxCache) -> None:
        self._client = client
        self._key = api_key
        self._fingerprint = fingerprint
        self._inboxes = inboxes

    async def _get(self, path: str, params: QueryParams = ()) -> dict[str, Any]:
        payload = await self._client.request(self._key, "GET", path, params=params)
        if payload is None:
            raise malformed_error(204)
        return payload

    async def _write(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = await self._client.request(self._key, method, path, body=body)
        if payload is None:
            raise malformed_error(204, write=True)
        return payload

    # Phone numbers -------------------------------------------------------------------------------

    async def list_phone_numbers(self) -> list[PhoneNumber]:
        """`GET /v1/phone-numbers` (not paginated); refreshes the inbox cache."""
        numbers = _parse_list(PhoneNumber, await self._get("/v1/phone-numbers"))
        self._inboxes.put(self._fingerprint, numbers)
        return numbers

    async def phone_numbers(self) -> list[PhoneNumber]:
        """The workspace's numbers from the inbox cache, fetched only when the cache has none."""
        return self._inboxes.get(self._fingerprint) or await self.list_phone_numbers()

    async def get_phone_number(self, phone_number_id: str) -> PhoneNumber:
        """`GET /v1/phone-numbers/{phoneNumberId}` (newer docs only, notes §2.12)."""
        return _data(PhoneNumber, await self._get(f"/v1/phone-numbers/{_segment(phone_number_id)}"))

    async def inbox_id(self, inbox: str) -> str:
        """The `PN…` id of an inbox reference, resolving an E.164 number through the phone-number list."""
        return inbox if is_inbox_id(inbox) else (await self.resolve_inbox(inbox)).id

    async def resolve_inbox(self, inbox: str) -> PhoneNumber:
        """The workspace number an inbox reference (a `PN…` id or E.164) names, or a ToolError."""
        numbers = await self.phone_numbers()
        attribute = "id" if is_inbox_id(inbox) else "number"
        for number in numbers:
            if getattr(number, attribute) == inbox:
                return number
        known = ", ".join(f"{number.number} ({number.id})" for number in numbers) or "none"
        raise ToolError(
            f"{inbox} is not one of this workspace's OpenPhone numbers. Its numbers are: {known}."
        )

    # Messages ------------------------------------------------------------------------------------

    async def send_message(
        self, sender: str, recipient: str, content: str, user_id: str | None, set_inbox_status: str | None
    ) -> Message:
        """`POST /v1/messages` (202): one recipient, as the API requires (`to` has maxItems 1)."""
        body: dict[str, Any] = {"from": sender, "to": [recipient], "content": content}
        if user_id is not None:
            body["userId"] = user_id
        if set_inbox_status is not None:
            body["setInboxStatus"] = set_inbox_status
        return _data(Message, await self._write("POST", "/v1/messages", body), write=True)

    async def get_message(self, message_id: str) -> Message:
        return _data(Message, await self._get(f"/v1/messages/{_segment(message_id)}"))

    async def list_messages(
        self,
        inbox_id: str,
        participants: Sequence[str],
        *,
        max_results: int,
        created_after: str | None = None,
        created_before: str | None = None,
        page_token: str | None = None,
    ) -> Page[Message]:
        """`GET /v1/messages`: one thread (inbox id and participants are both required by the API)."""
        params = _thread(inbox_id, participants, max_results, created_after, created_before, page_token)
        return _page(Message, await self._get("/v1/messages", params))

    async def list_conversations(
        self,
        inbox_ids: list[str],
        *,
        max_results: int,
        updated_after: str | None = None,
        updated_before: str | None = None,
        page_token: str | None = None,
    ) -> Page[Conversation]:
        """`GET /v1/conversations`, most recent activity first."""
        params = [("phoneNumbers", inbox) for inbox in inbox_ids]
        params.append(("maxResults", str(max_results)))
        optional = {"updatedAfter": updated_after, "updatedBefore": updated_before, "pageToken": page_token}
        params += [(name, value) for name, value in optional.items() if value is not None]
        return _page(Conversation, await self._get("/v1/conversations", params))

    # Calls ---------------------------------------------------------------------------------------

    async def list_calls(
        self,
        inbox_id: str,
        participant: str,
        *,
        max_results: int,
        created_after: str | None = None,
        created_before: str | None = None,
        page_token: str | None = None,
    ) -> Page[Call]:
        """`GET /v1/calls`: calls between one inbox and one participant (the API allows exactly one)."""
        params = _thread(inbox_id, [participant], max_results, created_after, created_before, page_token)
        return _page(Call, await self._get("/v1/calls", params))

    async def get_call(self, call_id: str) -> Call:
        """`GET /v1/calls/{callId}` (newer docs only, notes §2.5)."""
        return _data(Call, await self._get(f"/v1/calls/{_segment(call_id)}"))

    async def get_recordings(self, call_id: str) -> list[Recording]:
        """`GET /v1/call-recordings/{callId}`: the segments, oldest first (not paginated)."""
        return _parse_list(Recording, await self._get(f"/v1/call-recordings/{_segment(call_id)}"))

    async def get_voicemail(self, call_id: str) -> Voicemail:
        """`GET /v1/call-voicemails/{callId}` (newer docs only, notes §2.9)."""
        return _data(Voicemail, await self._get(f"/v1/call-voicemails/{_segment(call_id)}"))

    async def get_transcript(self, call_id: str) -> Transcript:
        return _data(Transcript, await self._get(f"/v1/call-transcripts/{_segment(call_id)}"))

    async def get_summary(self, call_id: str) -> CallSummary:
        return _data(CallSummary, await self._get(f"/v1/call-summaries/{_segment(call_id)}"))

    # Contacts ------------------------------------------------------------------------------------

    async def create_contact(self, body: dict[str, Any]) -> Contact:
        return _data(Contact, await self._write("POST", "/v1/contacts", body), write=True)

    async def get_contact(self, contact_id: str) -> Contact:
        return _data(Contact, await self._get(f"/v1/contacts/{_segment(contact_id)}"))

    async def update_contact(self, contact_id: str, body: dict[str, Any]) -> Contact:
        return _data(
            Contact, await self._write("PATCH", f"/v1/contacts/{_segment(contact_id)}", body), write=True
        )

    async def delete_contact(self, contact_id: str) -> None:
        await self._client.request(self._key, "DELETE", f"/v1/contacts/{_segment(contact_id)}")

    async def list_contacts(
        self, *, max_results: int, external_ids: list[str], page_token: str | None = None
    ) -> Page[Contact]:
        params = [("externalIds", external_id) for external_id in external_ids]
        return _page(Contact, await self._get("/v1/contacts", params + _paging(max_results, page_token)))

    async def list_custom_fields(self) -> list[CustomFieldDefinition]:
        return _parse_list(CustomFieldDefinition, await self._get("/v1/contact-custom-fields"))

    # Users (newer docs only, notes §2.13) ---------------------------------------------------------

    async def list_users(self, *, max_results: int, page_token: str | None = None) -> Page[User]:
        return _page(User, await self._get("/v1/users", _paging(max_results, page_token)))

    async def get_user(self, user_id: str) -> User:
        return _data(User, await self._get(f"/v1/users/{_segment(user_id)}"))


def _thread(
    inbox_id: str,
    participants: Sequence[str],
    max_results: int,
    created_after: str | None,
    created_before: str | None,
    page_token: str | None,
) -> list[tuple[str, str]]:
    """The query of list messages and list calls, which share their parameters."""
    params = [("phoneNumberId", inbox_id)]
    params += [("participants", participant) for participant in participants]
    params.append(("maxResults", str(max_results)))
    optional = {"createdAfter": created_after, "createdBefore": created_before, "pageToken": page_token}
    params += [(name, value) for name, value in optional.items() if value is not None]
    return params


def _paging(max_results: int, page_token: str | None) -> list[tuple[str, str]]:
    """`maxResults` (always: the API requires it) and `pageToken` when resuming."""
    params = [("maxResults", str(max_results))]
    return params if page_token is None else [*params, ("pageToken", page_token)]


def _segment(identifier: str) -> str:
    """An id as one path segment; ids are opaque, so anything that could change the path is refused."""
    if not identifier or any(not (char.isalnum() or char in "-_") for char in identifier):
        raise ToolError("An id may contain only letters, digits, '-' and '_'.")
    return identifier


def _data(model: type[ModelT], payload: dict[str, Any], *, write: bool = False) -> ModelT:
    """The `data` member of a `{data: …}` answer, read as `model`."""
    try:
        return model.model_validate(payload.get("data"))
    except ValidationError:
        raise malformed_error(200, write=write) from None


def _page(model: type[ItemT], payload: dict[str, Any]) -> Page[ItemT]:
    """A paginated answer `{data: [...], totalItems, nextPageToken}`."""
    try:
        return Page[model].model_validate(payload)  # type: ignore[valid-type]
    except ValidationError:
        raise malformed_error(200) from None


def _parse_list(model: type[ModelT], payload: dict[str, Any]) -> list[ModelT]:
    """An unpaginated list answer `{data: [...]}`."""
    data = payload.get("data")
    if not isinstance(data, list):
        raise malformed_error(200)
    try:
        return [model.model_validate(item) for item in data]
    except ValidationError:
        raise malformed_error(200) from None
