"""OpenPhone's resources as read from the v1 API, and as tools return them.

Field names are OpenPhone's own camelCase (openapi-v1.json `components`/responses), so a model that
reads the API docs reads the results the same way. Unknown fields are ignored, so a new upstream
field never breaks a tool; timestamps stay ISO 8601 strings as OpenPhone sends them.
"""

from __future__ import annotations

from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

ItemT = TypeVar("ItemT", bound=BaseModel)

# Tool inputs and the wire models: camelCase outside, snake_case inside, immutable, and each built when
# first used, not at start-up (tools/list reads `tools.schemas`).
CAMEL_CASE: Final = ConfigDict(
    alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, frozen=True, defer_build=True
)


class Wire(BaseModel):
    """Base of every model that crosses a wire (CAMEL_CASE); fields OpenPhone adds are ignored."""

    model_config = ConfigDict(**CAMEL_CASE, extra="ignore")


class Message(Wire):
    id: str
    from_: str = Field(alias="from")
    to: list[str]
    text: str
    direction: Literal["incoming", "outgoing"]
    status: str
    phone_number_id: str | None = None
    user_id: str | None = None
    created_at: str
    updated_at: str | None = None


class Conversation(Wire):
    id: str
    name: str | None = None
    participants: list[str]
    phone_number_id: str | None = None
    assigned_to: str | None = None
    last_activity_at: str | None = None
    last_activity_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Call(Wire):
    id: str
    direction: Literal["incoming", "outgoing"]
    status: str
    participants: list[str]
    phone_number_id: str | None = None
    user_id: str | None = None
    duration: int | None = Field(default=None, description="Seconds.")
    created_at: str
    answered_at: str | None = None
    answered_by: str | None = Field(default=None, description="The user (US…) who answered an incoming call.")
    initiated_by: str | None = Field(default=None, description="The user (US…) who placed an outgoing call.")
    completed_at: str | None = None
    forwarded_from: str | None = None
    forwarded_to: str | None = None
    call_route: str | None = Field(
        default=None, description="How an incoming call arrived (phone-number or phone-menu), where given."
    )
    ai_handled: str | None = Field(default=None, description="ai-agent when AI answered, where given.")


class Recording(Wire):
    """One segment of a call recording (openapi-v1.json getCallRecordings_v1)."""

    id: str
    status: str | None = None
    duration: int | None = Field(default=None, description="Seconds.")
    start_time: str | None = None
    type: str | None = None
    url: str | None = Field(default=None, description="Sensitive: anyone holding it can play the audio.")


class Voicemail(Wire):
    """A call's voicemail (notes §2.9); every field but id and status is null while processing."""

    id: str
    status: Literal["completed", "in-progress"]
    duration: int | None = Field(default=None, description="Seconds.")
    transcript: str | None = None
    recording_url: str | None = Field(default=None, description="Sensitive: anyone holding it can play it.")


class User(Wire):
    """A workspace member (notes §2.13)."""

    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = Field(default=None, description="owner, admin or member.")
    picture_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class DialogueLine(Wire):
    content: str
    start: float
    end: float
    identifier: str | None = None
    user_id: str | None = None


TranscriptStatus = Literal["absent", "in-progress", "completed", "failed"]


class Transcript(Wire):
    call_id: str
    status: TranscriptStatus
    duration: float | None = None
    created_at: str | None = None
    dialogue: list[DialogueLine] | None = None


class CallSummary(Wire):
    call_id: str
    status: TranscriptStatus
    summary: list[str] | None = None
    next_steps: list[str] | None = None


class PhoneNumberUser(Wire):
    id: str
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None


class PhoneNumber(Wire):
    id: str
    number: str
    name: str | None = None
    formatted_number: str | None = None
    users: list[PhoneNumberUser] = []
    restrictions: dict[str, Any] | None = None


class LabeledValue(Wire):
    name: str
    value: str | None = None
    id: str | None = None


class DefaultFields(Wire):
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    role: str | None = None
    emails: list[LabeledValue] = []
    phone_numbers: list[LabeledValue] = []


class CustomFieldValue(Wire):
    name: str | None = None
    key: str | None = None
    id: str | None = None
    type: str | None = None
    # OpenPhone's anyOf by `type`: multi-select, address/string/url/date, boolean, number (or null).
    value: list[str] | bool | int | float | str | None = None


class Contact(Wire):
    id: str
    external_id: str | None = None
    source: str | None = None
    default_fields: DefaultFields
    custom_fields: list[CustomFieldValue] = []
    created_at: str | None = None
    updated_at: str | None = None


class CustomFieldDefinition(Wire):
    name: str
    key: str
    type: str


class Page(Wire, Generic[ItemT]):
    """One page of a paginated list; `next_page_token` is None on the last page."""

    data: list[ItemT]
    next_page_token: str | None = None
