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

import orjson
from pydantic import BaseModel, ValidationError

from tools.errors import ToolDeclarationError, ToolError
from tools.phone import DEFAULT_REGION
from tools.views import View

if TYPE_CHECKING:
    from tools.api import OpenPhoneAPI
    from tools.undo import UndoBook

logger = logging.getLogger(__name__)

InT = TypeVar("InT", bound=BaseModel)
OutT = TypeVar("OutT", bound=BaseModel)

# MCP 2025-11-25 tools: names SHOULD be 1-128 characters of [A-Za-z0-9_.-].
TOOL_NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

ProgressReporter = Callable[[float, float | None, str | None], Awaitable[None]]


async def no_progress(progress: float, total: float | None, message: str | None) -> None:
    """The reporter used when the caller passed no progressToken."""


Audience = Literal["default", "chatgpt"]
# OpenAI Apps SDK: `openai/toolInvocation/*` status texts are at most 64 characters.
_STATUS_TEXT_MAX: Final = 64


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a handler may use besides its arguments.

    `openphone` is the API bound to the caller's key (the key itself stays inside it), `region` the
    default region for national phone numbers, `report_progress` sends `notifications/progress`.
    `credential` names the caller's credential (an OAuth sign-in, or the key header): undo tokens
    are bound to it; `undo` seals and redeems them (None: the contact writes offer no undo).
    """

    openphone: OpenPhoneAPI
    principal_fingerprint: str
    report_progress: ProgressReporter = no_progress
    region: str = DEFAULT_REGION
    credential: str = ""
    undo: UndoBook | None = None


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
    MCP Apps view hosts render the result in; `is_app_only` marks a helper only views may call.
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
        except ToolError as exc:
            return error_result(str(exc))
        # Serialised once: the text copy is that JSON, and `structuredContent` the same JSON
        # spliced in as it is when the response is encoded (orjson.Fragment); nothing here reads it.
        structured = output.model_dump_json(by_alias=True)
        return {
            "content": [{"type": "text", "text": structured}],
            "structuredContent": orjson.Fragment(structured),
            "isError": False,
        }


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
    """An app-only helper must only read: whatever a view can call, a hostile message could drive."""
    # Every scope that only reads is named `<resource>:read` (tools/scopes.py).
    if tool.is_app_only and not (tool.annotations.read_only and tool.scope.endswith(":read")):
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
