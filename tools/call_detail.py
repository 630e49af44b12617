"""`get-call`: one call with its summary, transcript and voicemail, in one answer.

The three parts are read concurrently, each on its own: a part that does not exist yet, is not on the
plan, or fails (OpenPhone refused or did not answer) is reported in that part, and never fails the
call. Parts that cannot exist are not requested: an unanswered call has no summary or transcript,
and only an unanswered incoming call can have a voicemail.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Literal, TypeVar

import anyio
from pydantic import BaseModel, Field

from tools.call_media import NO_VOICEMAIL, CallIdArgs, VoicemailAvailability, voicemail_part
from tools.calls import (
    NOT_ANSWERED_SUMMARY,
    Availability,
    Dialogue,
    summary_part,
    transcript_part,
    was_answered,
)
from tools.errors import OpenPhoneError
from tools.registry import Tool, ToolAnnotations, ToolContext
from tools.resources import Call, CallSummary, Voicemail, Wire
from tools.scopes import CALLS_READ

PartT = TypeVar("PartT", bound=BaseModel)


class SummaryPart(Wire):
    availability: Availability | Literal["error"]
    note: str
    summary: CallSummary | None = None


class TranscriptPart(Wire):
    availability: Availability | Literal["error"]
    note: str
    dialogue: Dialogue = None


class VoicemailPart(Wire):
    availability: VoicemailAvailability | Literal["error"]
    note: str
    voicemail: Voicemail | None = Field(
        default=None, description="Transcript, duration, status and the private recording URL (sensitive)."
    )


class CallDetail(Wire):
    call: Call
    summary: SummaryPart
    transcript: TranscriptPart
    voicemail: VoicemailPart


async def _part(model: type[PartT], what: str, read: Awaitable[BaseModel]) -> PartT:
    """`read`'s result as `model`, or an "error" part saying what failed."""
    try:
        return model.model_validate(dict(await read))
    except OpenPhoneError as exc:
        return model.model_validate({"availability": "error", "note": f"The {what} could not be read: {exc}"})


async def _not_requested(part: BaseModel) -> BaseModel:
    return part


async def get_call(args: CallIdArgs, context: ToolContext) -> CallDetail:
    api = context.openphone
    call = await api.get_call(args.call_id)
    answered = was_answered(call)
    summary = summary_part(api, call.id) if answered else _not_requested(NOT_ANSWERED_SUMMARY)
    voicemail = (
        voicemail_part(api, call.id)
        if call.direction == "incoming" and not answered
        else _not_requested(NO_VOICEMAIL)
    )
    parts: dict[str, BaseModel] = {}

    async def read(name: str, model: type[BaseModel], what: str, reader: Awaitable[BaseModel]) -> None:
        parts[name] = await _part(model, what, reader)

    async with anyio.create_task_group() as group:
        group.start_soon(read, "summary", SummaryPart, "summary", summary)
        group.start_soon(read, "transcript", TranscriptPart, "transcript", transcript_part(api, call))
        group.start_soon(read, "voicemail", VoicemailPart, "voicemail", voicemail)
    return CallDetail.model_validate({"call": call, **parts})


GET_CALL = Tool(
    name="get-call",
    title="Get a call",
    description=(
        "Get one call (AC… id) with, in one answer, its AI summary, its transcript and its voicemail, "
        "each with why it is missing where it is: not answered, still processing, not transcribed, not "
        "on the plan, no voicemail, or could not be read. Voicemail recording URLs are sensitive."
    ),
    input_model=CallIdArgs,
    output_model=CallDetail,
    handler=get_call,
    annotations=ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False),
    scope=CALLS_READ,
)
