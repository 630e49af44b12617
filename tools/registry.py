"""The tool registry: one declaration per tool feeds `tools/list`, argument validation and the docs.

A `Tool` names its input and output pydantic models; their JSON Schemas become `inputSchema` and
`outputSchema`, and the same input model validates arguments before the handler runs. Results carry
`structuredContent` plus a JSON text copy (MCP 2025-06-18 tools: "a tool that returns structured
content SHOULD also return the serialized JSON in a TextContent block").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from tools.budget import RESULT_BUDGET_BYTES, Budget, Fit, result_size, tool_result
from tools.errors import ToolDeclarationError, ToolError
from tools.pending import Decision, Status
from tools.phone import DEFAULT_REGION
from tools.views import View

if TYPE_CHECKING:
    from tools.api import OpenPhoneAPI
    from tools.grant import Grant
    from tools.sends import Sends
    from tools.undo import UndoBook

logger = logging.getLogger(__name__)

InT = TypeVar("InT", bound=BaseModel)
OutT = TypeVar("OutT", bound=BaseModel)

# MCP 2025-11-25 tools: names SHOULD be 1-128 characters of [A-Za-z0-9_.-].
TOOL_NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

ProgressReporter = Callable[[float, float | None, str | None], Awaitable[None]]


async def no_progress(progress: float, total: float | None, message: str | None) -> None:
    """The reporter used when the caller passed no progressToken."""


# A view's token and the person's decision -> the held send's status after it (None: refused) and the
# CallToolResult of what happened (`gateway.protocol.confirmation`).
SettleSend = Callable[[str, Decision], Awaitable[tuple[Status | None, dict[str, Any]]]]


async def no_settling(token: str, decision: Decision) -> tuple[Status | None, dict[str, Any]]:
    """The settler of a context that cannot settle held sends (a confirmed send being delivered)."""
    raise ToolError("Held sends cannot be confirmed from here. Nothing was sent.")


Audience = Literal["default", "chatgpt"]
# OpenAI Apps SDK: `openai/toolInvocation/*` status texts are at most 64 characters.
_STATUS_TEXT_MAX: Final = 64


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a handler may use besides its arguments.

    `openphone` is the API bound to the caller's key (the key itself stays inside it), `region` the
    default region for national phone numbers, `report_progress` sends `notifications/progress`.
    `sends` is the caller's send guard: its grant (inboxes, send rule, new numbers), the id its
    allowance and pending sends are kept under, and the hooks every send goes through.
    `settle_send` confirms or cancels the held send a view's token names (confirm-send).
    `credential` names the caller's credential (an OAuth sign-in, or the key header): undo tokens
    are bound to it; `undo` seals and redeems them (None: the contact writes offer no undo).
    """

    openphone: OpenPhoneAPI
    principal_fingerprint: str
    sends: Sends
    report_progress: ProgressReporter = no_progress
    region: str = DEFAULT_REGION
    settle_send: SettleSend = no_settling
    credential: str = ""
    undo: UndoBook | None = None

    @property
    def grant(self) -> Grant:
        return self.sends.grant

    @property
    def grant_id(self) -> str:
        return self.sends.grant_id


@dataclass(frozen=True, slots=True)
class ToolAnnotations:
    """MCP tool annotations (2025-03-26): hints about side effects, declared honestly per tool."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool

    def to_wire(self, title: str) -> dict[str, Any]:
        """The `annotations` member of a tools/list entry."""
        return {
            "title": title,
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        }


# What every tool that only reads the workspace declares.
READ_ONLY: Final = ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False)


@dataclass(frozen=True, slots=True)
class Tool(Generic[InT, OutT]):
    """One tool, declared once.

    `scope` is the OAuth scope a caller needs; it is published as the tool's `securitySchemes`
    (OpenAI Apps SDK: top level, mirrored in `_meta` for older clients). `view`, when set, is the
    MCP Apps view hosts render the result in; `is_app_only` marks a helper only views may call;
    `needs_view_token` marks one that acts only with a token the gateway gives views, never the model.
    `fit` shortens an answer over the size budget (tools/budget.py); without one, the answer must fit.
    """

    name: str
    title: str
    description: str
    input_model: type[InT]
    output_model: type[OutT]
    handler: Callable[[InT, ToolContext], Awaitable[OutT]]
    annotations: ToolAnnotations
    scope: str
    view: View | None = None
    is_app_only: bool = False
    fit: Fit | None = None
    needs_view_token: bool = False

    def schemas(self) -> dict[str, Any]:
        """`inputSchema` and `outputSchema`: the JSON Schemas pydantic generates from the two models."""
        return {
            "inputSchema": self.input_model.model_json_schema(by_alias=True),
            "outputSchema": self.output_model.model_json_schema(by_alias=True, mode="serialization"),
        }

    def describe(self, schemas: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The tools/list entry; `schemas` are what `schemas()` returns, generated when not given."""
        security = [{"type": "oauth2", "scopes": [self.scope]}]
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            **(schemas if schemas is not None else self.schemas()),
            "annotations": self.annotations.to_wire(self.title),
            "securitySchemes": security,
            "_meta": {
                "securitySchemes": security,
                "openai/toolInvocation/invoking": f"{self.title}…"[:_STATUS_TEXT_MAX],
                "openai/toolInvocation/invoked": f"{self.title}: done"[:_STATUS_TEXT_MAX],
                **self._view_meta(),
            },
        }

    def _view_meta(self) -> dict[str, Any]:
        """MCP Apps `_meta.ui` and its ChatGPT mirrors, from `view`, `is_app_only` and the annotations.

        A tool that writes is model-only, so hosts MUST refuse it to a view (MCP Apps "Resource
        Discovery": visibility): a view, even one fed a hostile message, can never send or change.
        """
        if self.is_app_only:
            visibility = ["app"]
        elif self.annotations.read_only:
            visibility = ["model", "app"]
        else:
            visibility = ["model"]
        ui: dict[str, Any] = {"visibility": visibility}
        meta: dict[str, Any] = {
            "openai/widgetAccessible": "app" in visibility,
            "openai/visibility": "private" if self.is_app_only else "public",
        }
        if self.view is not None:
            ui = {"resourceUri": self.view.uri, **ui}
            # The flat key is deprecated but still read by older hosts (ext-apps examples emit it).
            meta |= {"ui/resourceUri": self.view.uri, "openai/outputTemplate": self.view.uri}
        return {"ui": ui, **meta}

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
        """Validate `arguments`, run the handler and build the CallToolResult.

        Validation failures and `ToolError`s become `isError` results (MCP 2025-11-25 tools: input
        validation errors are tool execution errors, so the model can correct itself).
        """
        try:
            parsed = self.input_model.model_validate(arguments, context={"region": context.region})
        except ValidationError as exc:
            return error_result(describe_validation_error(exc))
        try:
            output = await self.handler(parsed, context)
            result = tool_result(output)
            size = result_size(result)
            if size > RESULT_BUDGET_BYTES:
                return await self._fitted(parsed, output, context, size)
        except ToolError as exc:
            return error_result(str(exc))
        return result

    async def _fitted(self, args: InT, output: OutT, context: ToolContext, size: int) -> dict[str, Any]:
        """The answer shortened by `fit`; never a JSON cut short, and never a write's outcome withheld."""

        async def rerun(again: InT) -> OutT:
            return await self.handler(again, context)

        budget = Budget(RESULT_BUDGET_BYTES, rerun)
        fitted = None if self.fit is None else await self.fit(args, output, budget)
        if fitted is not None:
            logger.info("tool %s answer shortened from %d bytes to fit %d", self.name, size, budget.limit)
            return tool_result(fitted)
        if not self.annotations.read_only:
            # What was sent is reported whole: a model told less could send again.
            logger.warning("tool %s answered %d bytes, over the %d budget", self.name, size, budget.limit)
            return tool_result(output)
        return error_result(
            f"The answer would be {size:,} characters, more than the {budget.limit:,} clients accept, "
            "even shortened. Ask for less: a smaller maxResults or a narrower time window."
        )


@dataclass(slots=True)
class ToolRegistry:
    """An explicit, ordered list of tools; names are unique and listing order is deterministic.

    ChatGPT sees only `chatgpt_tools` (all tools when it is None): the smaller set its connectors
    handle well, plus the app-only helpers its views call (hidden from its model by
    `openai/visibility: private`) whose scope one of those tools needs too. A tool outside an
    audience's set is unknown to that audience, for listing and calls. `views` are the distinct
    views of all tools, in declaration order. `schemas` holds tools' schemas generated ahead of time
    (`tools.schemas`), by name; any tool missing from it has its schemas generated here.
    """

    tools: Sequence[Tool[Any, Any]]
    chatgpt_tools: Collection[str] | None = None
    schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    _by_name: dict[str, Tool[Any, Any]] = field(init=False)
    _listings: dict[Audience, list[dict[str, Any]]] = field(init=False)
    _names: dict[Audience, frozenset[str]] = field(init=False)
    _views: dict[str, View] = field(init=False)

    def __post_init__(self) -> None:
        self._by_name = {}
        for tool in self.tools:
            if not TOOL_NAME_PATTERN.fullmatch(tool.name):
                raise ToolDeclarationError(
                    f"tool name {tool.name!r} must be 1-128 characters of [A-Za-z0-9_.-]"
                )
            if tool.name in self._by_name:
                raise ToolDeclarationError(f"tool name {tool.name!r} is declared twice")
            _check_app_only(tool)
            self._by_name[tool.name] = tool
        everything = frozenset(self._by_name)
        chatgpt = everything if self.chatgpt_tools is None else frozenset(self.chatgpt_tools)
        if not chatgpt <= everything:
            raise ToolDeclarationError(f"unknown ChatGPT tools: {', '.join(sorted(chatgpt - everything))}")
        # A helper joins only when it reads nothing ChatGPT's own tools could not: it adds no capability.
        scopes = {self._by_name[name].scope for name in chatgpt}
        helpers = frozenset(tool.name for tool in self.tools if tool.is_app_only and tool.scope in scopes)
        self._names = {"default": everything, "chatgpt": chatgpt | helpers}
        self._views = {}
        for tool in self.tools:
            if tool.view is not None and self._views.setdefault(tool.view.uri, tool.view) != tool.view:
                raise ToolDeclarationError(f"two different views are named {tool.view.uri}")
        # Each entry built once, shared by the audiences.
        entries = [(tool.name, tool.describe(self.schemas.get(tool.name))) for tool in self.tools]
        self._listings = {
            audience: [entry for name, entry in entries if name in names]
            for audience, names in self._names.items()
        }

    def get(self, name: str, audience: Audience = "default") -> Tool[Any, Any] | None:
        """The tool called `name` if `audience` may see it, else None."""
        return self._by_name.get(name) if name in self._names[audience] else None

    def listing(
        self, audience: Audience = "default", scopes: Collection[str] | None = None
    ) -> list[dict[str, Any]]:
        """The tools/list entries for `audience`; with `scopes`, only the tools those scopes allow."""
        entries = self._listings[audience]
        if scopes is None:
            return entries
        return [entry for entry in entries if self._by_name[entry["name"]].scope in scopes]

    @property
    def views(self) -> tuple[View, ...]:
        return tuple(self._views.values())

    def view(self, uri: str) -> View | None:
        """The view served at `uri`, or None."""
        return self._views.get(uri)


def _check_app_only(tool: Tool[Any, Any]) -> None:
    """An app-only helper must only read: whatever a view can call, a hostile message could drive.

    The one exception writes only with a token the model never sees (`needs_view_token`, confirm-send):
    the token is in a held send's result `_meta`, for the view, so only the person's click can use it.
    """
    if tool.needs_view_token and not tool.is_app_only:
        raise ToolDeclarationError(f"tool {tool.name!r} needs a view's token, so it must be app-only")
    # Every scope that only reads is named `<resource>:read` (tools/scopes.py).
    is_reader = tool.annotations.read_only and tool.scope.endswith(":read")
    if tool.is_app_only and not (is_reader or tool.needs_view_token):
        raise ToolDeclarationError(f"app-only tool {tool.name!r} must be read-only with a read scope")


def error_result(message: str) -> dict[str, Any]:
    """A CallToolResult reporting a failure the model should see."""
    return {"content": [{"type": "text", "text": message}], "isError": True}


def describe_validation_error(exc: ValidationError) -> str:
    """Name every failing argument and the rule it broke, without echoing the values given."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']} ({error['type']})")
    return "Invalid arguments: " + "; ".join(problems)
