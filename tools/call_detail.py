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

from tools.call_media import CallIdArgs, VoicemailAvailability, no_voicemail, voicemail_part
from tools.calls import (
    Availability,
    Dialogue,
    not_answered_summary,
    summary_part,
    transcript_part,
    was_answered,
)
from tools.errors import OpenPhoneError
from tools.registry import READ_ONLY, Tool, ToolContext
from tools.resources import Call, CallSummary, Voicemail, Wire
from tools.scopes import CALLS_READ
from tools.untrusted import DESCRIPTION_NOTE, ThirdPartyContent, marked

ReportT = TypeVar("ReportT", bound=BaseModel)


class SummaryReport(Wire):
    availability: Availability | Literal["error"]
    note: str
    summary: CallSummary | None = None


class TranscriptReport(Wire):
    availability: Availability | Literal["error"]
    note: str
    dialogue: Dialogue = None


class VoicemailReport(Wire):
    availability: VoicemailAvailability | Literal["error"]
    note: str
    voicemail: Voicemail | None = Field(
        default=None, description="Transcript, duration, status and the private recording URL (sensitive)."
    )


class CallDetail(Wire):
    third_party_content: ThirdPartyContent = marked(
        "summary.summary", "transcript.dialogue[].content", "voicemail.voicemail.transcript"
    )
    call: Call
    summary: SummaryReport
    transcript: TranscriptReport
    voicemail: VoicemailReport


async def _report(model: type[ReportT], name: str, read: Awaitable[BaseModel]) -> ReportT:
    """`read`'s result as `model`, or an "error" report saying what failed."""
    try:
        return model.model_validate(dict(await read))
    except OpenPhoneError as exc:
        return model.model_validate({"availability": "error", "note": f"The {name} could not be read: {exc}"})


async def _not_requested(part: BaseModel) -> BaseModel:
    """A part known without asking OpenPhone, awaitable like the parts that are read."""
    return part


async def get_call(args: CallIdArgs, context: ToolContext) -> CallDetail:
    api = context.openphone
    call = await api.get_call(args.call_id)
    context.sends.check_inbox_of(call.phone_number_id, "This call")
    answered = was_answered(call)
    summary = summary_part(api, call.id) if answered else _not_requested(not_answered_summary())
    voicemail = (
        voicemail_part(api, call.id)
        if call.direction == "incoming" and not answered
        else _not_requested(no_voicemail())
    )
    reads: dict[str, tuple[type[BaseModel], Awaitable[BaseModel]]] = {
        "summary": (SummaryReport, summary),
        "transcript": (TranscriptReport, transcript_part(api, call)),
        "voicemail": (VoicemailReport, voicemail),
    }
    reports: dict[str, BaseModel] = {}

    async def read(name: str, model: type[BaseModel], reader: Awaitable[BaseModel]) -> None:
        reports[name] = await _report(model, name, reader)

    async with anyio.create_task_group() as group:
        for name, (model, reader) in reads.items():
            group.start_soon(read, name, model, reader)
    return CallDetail.model_validate({"call": call, **reports})


GET_CALL = Tool(
    name="get-call",
    title="Get a call",
    description=(
        "Get one call (AC… id) with, in one answer, its AI summary, its transcript and its voicemail, "
        "each with why it is missing where it is: not answered, still processing, not transcribed, not "
        "on the plan, no voicemail, or could not be read. Voicemail recording URLs are sensitive."
        + DESCRIPTION_NOTE
    ),
    input_model=CallIdArgs,
    output_model=CallDetail,
    handler=get_call,
    annotations=READ_ONLY,
    scope=CALLS_READ,
)
