"""`confirm-send`: the send view's Send and Cancel buttons (issue 23, item 3).

App-only (MCP Apps `visibility: ["app"]`, ChatGPT `openai/visibility: private`): hosts hide it from
the model and let only the view call it. That alone would not stop a model, since nothing in a
`tools/call` says who made it (guardrails-notes §4.1); what does is the token it needs, which the
gateway puts only in the held send's result `_meta`, for the view, never in `content` or
`structuredContent`. The token names one pending send of one grant, expires with it, and settles
it once.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tools.arguments import Arguments
from tools.errors import ToolError
from tools.pending import Status
from tools.registry import Tool, ToolAnnotations, ToolContext
from tools.resources import Wire
from tools.scopes import MESSAGES_WRITE

MAX_TOKEN_CHARS = 1024


class ConfirmSendArgs(Arguments):
    token: str = Field(
        min_length=1,
        max_length=MAX_TOKEN_CHARS,
        description="The token the send view was given for the held send.",
    )
    decision: Literal["send", "cancel"] = Field(description='"send" sends it now; "cancel" sends nothing.')


class ConfirmSendResult(Wire):
    status: Literal["sent", "cancelled"]
    message: str = Field(description="What happened, in one sentence.")
    result: dict[str, Any] | None = Field(default=None, description="The send's own result, once sent.")


async def confirm_send(args: ConfirmSendArgs, context: ToolContext) -> ConfirmSendResult:
    """Settle the held send the token names; a refusal (forged, expired, settled) is a ToolError."""
    status, outcome = await context.settle_send(
        args.token, "confirm" if args.decision == "send" else "cancel"
    )
    text = str((outcome.get("content") or [{}])[0].get("text", ""))
    if status is None or status is Status.FAILED:
        raise ToolError(text)
    if args.decision == "cancel":
        return ConfirmSendResult(status="cancelled", message=text)
    structured = outcome.get("structuredContent")
    return ConfirmSendResult(
        status="sent", message="Sent.", result=structured if isinstance(structured, dict) else None
    )


CONFIRM_SEND = Tool(
    name="confirm-send",
    title="Confirm a held text (for the send view)",
    description=(
        "Used only by the send view's Send and Cancel buttons, with a token only the view receives. "
        "An assistant cannot confirm a send: a person does."
    ),
    input_model=ConfirmSendArgs,
    output_model=ConfirmSendResult,
    handler=confirm_send,
    annotations=ToolAnnotations(read_only=False, destructive=True, idempotent=False, open_world=True),
    scope=MESSAGES_WRITE,
    is_app_only=True,
    needs_view_token=True,
)
