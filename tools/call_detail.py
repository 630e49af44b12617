"""`get-call`: one call with its summary, transcript and voicemail, in one answer.

The three parts are read concurrently, each on its own: a part that does not exist yet, is not on the
plan, or fails (OpenPhone refused or did not answer) is reported in that part, and never fails the
call. Parts that cannot exist are not requested: an unanswered call has no summary or transcript,
and only an unanswered incoming call can have a voicemail. A transcript too long for one answer is
read on with `dialogueFrom`, the cursor the shortened answer names.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Literal, TypeVar

import anyio
from pydantic import BaseModel, Field

from tools.budget import Budget, Trimmable
from tools.call_media import CallIdArgs, VoicemailAvailability, no_voicemail, voicemail_part
from tools.calls import (
    Availability,
    Dialogue,
    dialogue_note,
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


class GetCallArgs(CallIdArgs):
    dialogue_from: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Skip this many transcript lines: to read on in a transcript too long for one answer.",
    )


class CallDetail(Trimmable):
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


async def get_call(args: GetCallArgs, context: ToolContext) -> CallDetail:
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
    detail = CallDetail.model_validate({"call": call, **reports})
    dialogue = detail.transcript.dialogue
    if dialogue is None or not args.dialogue_from:
        return detail
    transcript = detail.transcript.model_copy(update={"dialogue": dialogue[args.dialogue_from :]})
    return detail.model_copy(update={"transcript": transcript})


async def fit_call(args: GetCallArgs, output: CallDetail, budget: Budget) -> CallDetail | None:
    """The call with the head of its transcript that fits, and the `dialogueFrom` that reads on."""
    lines = output.transcript.dialogue or []
    start = args.dialogue_from

    def shown(count: int) -> CallDetail:
        transcript = output.transcript.model_copy(update={"dialogue": lines[:count]})
        note = dialogue_note(budget, output.call.id, start, count, start + len(lines))
        return output.model_copy(update={"transcript": transcript, "trimmed": f"{note}."})

    count = budget.longest(len(lines), shown)
    return shown(count) if count else None


GET_CALL = Tool(
    name="get-call",
    title="Get a call",
    description=(
        "Get one call (AC… id) with, in one answer, its AI summary, its transcript and its voicemail, "
        "each with why it is missing where it is: not answered, still processing, not transcribed, not "
        "on the plan, no voicemail, or could not be read. Voicemail recording URLs are sensitive."
        + DESCRIPTION_NOTE
    ),
    input_model=GetCallArgs,
    output_model=CallDetail,
    handler=get_call,
    annotations=READ_ONLY,
    scope=CALLS_READ,
    fit=fit_call,
)
