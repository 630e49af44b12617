"""The tool registry: declarations, listings and argument validation (`tools/registry.py`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field

from tools.api import OpenPhone
from tools.client import OpenPhoneClient
from tools.errors import ToolDeclarationError, ToolError
from tools.grant import LEGACY_GRANT
from tools.registry import Tool, ToolAnnotations, ToolContext, ToolRegistry
from tools.sends import Sends
from tools.views import View

OPENPHONE = OpenPhone(OpenPhoneClient(base_url="http://127.0.0.1:9"))
CONTEXT = ToolContext(
    openphone=OPENPHONE.for_key("op-test-key-0123456789", "0123456789abcdef"),
    principal_fingerprint="0123456789abcdef",
    sends=Sends(LEGACY_GRANT, "0123456789abcdef"),
)
READ_ONLY = ToolAnnotations(read_only=True, destructive=False, idempotent=True, open_world=False)
SENDS = ToolAnnotations(read_only=False, destructive=True, idempotent=False, open_world=True)


class EchoInput(BaseModel):
    text: str = Field(min_length=1, max_length=20, description="what to echo")
    times: int = Field(default=1, ge=1, le=3)


class Echoed(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    echoed_text: str = Field(alias="echoedText")
    times: int


class Recipient(BaseModel):
    number: str = Field(pattern=r"^\+[1-9][0-9]{1,14}$")


class SendInput(BaseModel):
    to: list[Recipient] = Field(min_length=1)


class Recorder:
    """A handler that records each call and echoes its input."""

    def __init__(self) -> None:
        self.calls: list[tuple[EchoInput, ToolContext]] = []

    async def __call__(self, arguments: EchoInput, context: ToolContext) -> Echoed:
        self.calls.append((arguments, context))
        return Echoed(echoed_text=arguments.text * arguments.times, times=arguments.times)


async def refuse(arguments: EchoInput, context: ToolContext) -> Echoed:
    raise ToolError("OpenPhone refused the request: the number is not in your workspace.")


async def crash(arguments: EchoInput, context: ToolContext) -> Echoed:
    raise RuntimeError("boom")


async def send(arguments: SendInput, context: ToolContext) -> Echoed:
    return Echoed(echoed_text="sent", times=1)


def echo_tool(name: str = "echo", handler: Any = None, title: str = "Echo") -> Tool[EchoInput, Echoed]:
    return Tool(
        name=name,
        title=title,
        description="Echo the text back.",
        input_model=EchoInput,
        output_model=Echoed,
        handler=handler or Recorder(),
        annotations=READ_ONLY,
        scope="test",
    )


def send_tool() -> Tool[SendInput, Echoed]:
    return Tool(
        name="send-message",
        title="Send message",
        description="Send a message.",
        input_model=SendInput,
        output_model=Echoed,
        handler=send,
        annotations=SENDS,
        scope="messages:write",
    )


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ToolDeclarationError) as caught:
        ToolRegistry([echo_tool(), send_tool(), echo_tool()])
    assert str(caught.value) == "tool name 'echo' is declared twice"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("send message", id="space"),
        pytest.param("messages/send", id="slash"),
        pytest.param("envoyé", id="non-ascii"),
        pytest.param("a" * 129, id="129-characters"),
        pytest.param("echo\n", id="trailing-newline"),
    ],
)
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ToolDeclarationError) as caught:
        ToolRegistry([echo_tool(name)])
    assert str(caught.value) == f"tool name {name!r} must be 1-128 characters of [A-Za-z0-9_.-]"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a", id="one-character"),
        pytest.param("a" * 128, id="128-characters"),
        pytest.param("Messages.send_v2-beta", id="every-character-class"),
    ],
)
def test_good_names_are_accepted(name: str) -> None:
    assert ToolRegistry([echo_tool(name)]).get(name) is not None


def test_describe() -> None:
    """The tools/list entry carries the schemas, all four hints, the title and the OAuth scope."""
    assert send_tool().describe() == {
        "name": "send-message",
        "title": "Send message",
        "description": "Send a message.",
        "inputSchema": {
            "$defs": {
                "Recipient": {
                    "properties": {
                        "number": {"pattern": r"^\+[1-9][0-9]{1,14}$", "title": "Number", "type": "string"}
                    },
                    "required": ["number"],
                    "title": "Recipient",
                    "type": "object",
                }
            },
            "properties": {
                "to": {"items": {"$ref": "#/$defs/Recipient"}, "minItems": 1, "title": "To", "type": "array"}
            },
            "required": ["to"],
            "title": "SendInput",
            "type": "object",
        },
        "outputSchema": {
            "properties": {
                "echoedText": {"title": "Echoedtext", "type": "string"},
                "times": {"title": "Times", "type": "integer"},
            },
            "required": ["echoedText", "times"],
            "title": "Echoed",
            "type": "object",
        },
        "annotations": {
            "title": "Send message",
            "readOnlyHint": False,
            "destructiveHint": True,
            "idempotentHint": False,
            "openWorldHint": True,
        },
        "securitySchemes": [{"type": "oauth2", "scopes": ["messages:write"]}],
        "_meta": {
            "securitySchemes": [{"type": "oauth2", "scopes": ["messages:write"]}],
            "openai/toolInvocation/invoking": "Send message…",
            "openai/toolInvocation/invoked": "Send message: done",
            "ui": {"visibility": ["model"]},
            "openai/widgetAccessible": False,
            "openai/visibility": "public",
        },
    }


VIEW = View(name="echo", title="Echo view", description="Shows the echo.", html="<!doctype html><p>echo</p>")


def test_a_tool_with_a_view_names_it_under_both_keys() -> None:
    """MCP Apps `_meta.ui.resourceUri` and ChatGPT's `openai/outputTemplate` are the same `ui://` URI."""
    meta = dataclasses.replace(echo_tool(), view=VIEW).describe()["_meta"]
    assert meta["ui"] == {"resourceUri": "ui://openphone/echo.html", "visibility": ["model", "app"]}
    assert meta["openai/outputTemplate"] == meta["ui/resourceUri"] == "ui://openphone/echo.html"
    assert (meta["openai/widgetAccessible"], meta["openai/visibility"]) == (True, "public")


def test_a_tool_that_writes_is_model_only_even_with_a_view() -> None:
    """A view can never send or change anything: hosts MUST refuse it a tool without "app"."""
    meta = dataclasses.replace(send_tool(), view=VIEW).describe()["_meta"]
    assert meta["ui"] == {"resourceUri": "ui://openphone/echo.html", "visibility": ["model"]}
    assert meta["openai/widgetAccessible"] is False


def test_an_app_only_helper_is_hidden_from_the_model_but_reachable_by_chatgpts_views() -> None:
    reader = dataclasses.replace(echo_tool("echo"), scope="messages:read")
    helper = dataclasses.replace(echo_tool("page"), scope="messages:read", view=VIEW, is_app_only=True)
    registry = ToolRegistry([reader, helper], chatgpt_tools=["echo"])
    meta = helper.describe()["_meta"]
    assert meta["ui"] == {"resourceUri": "ui://openphone/echo.html", "visibility": ["app"]}
    assert (meta["openai/visibility"], meta["openai/widgetAccessible"]) == ("private", True)
    assert [entry["name"] for entry in registry.listing("chatgpt")] == ["echo", "page"]
    assert registry.get("page", "chatgpt") is helper


def test_an_app_only_helper_reads_nothing_chatgpts_own_tools_could_not() -> None:
    """Without a ChatGPT tool needing the helper's scope, the helper stays unknown to ChatGPT."""
    helper = dataclasses.replace(echo_tool("page"), scope="messages:read", is_app_only=True)
    registry = ToolRegistry([echo_tool("echo"), helper], chatgpt_tools=["echo"])
    assert [entry["name"] for entry in registry.listing("chatgpt")] == ["echo"]
    assert registry.get("page", "chatgpt") is None


@pytest.mark.parametrize(
    "helper",
    [
        pytest.param(dataclasses.replace(send_tool(), is_app_only=True), id="writes"),
        pytest.param(
            dataclasses.replace(echo_tool(), scope="contacts:write", is_app_only=True), id="write-scope"
        ),
    ],
)
def test_an_app_only_helper_that_could_write_is_refused(helper: Tool[Any, Any]) -> None:
    with pytest.raises(ToolDeclarationError) as caught:
        ToolRegistry([helper])
    assert str(caught.value) == f"app-only tool {helper.name!r} must be read-only with a read scope"


def test_two_different_views_under_one_uri_are_refused() -> None:
    impostor = dataclasses.replace(VIEW, html="<!doctype html><p>other</p>")
    with pytest.raises(ToolDeclarationError) as caught:
        ToolRegistry(
            [
                dataclasses.replace(echo_tool("a"), view=VIEW),
                dataclasses.replace(echo_tool("b"), view=impostor),
            ]
        )
    assert str(caught.value) == "two different views are named ui://openphone/echo.html"


def test_views_are_listed_once_each_in_declaration_order_and_found_by_uri() -> None:
    other = View(name="other", title="Other", description="Other.", html="<!doctype html>")
    registry = ToolRegistry(
        [
            dataclasses.replace(echo_tool("a"), view=VIEW),
            echo_tool("plain"),
            dataclasses.replace(echo_tool("b"), view=other),
            dataclasses.replace(echo_tool("c"), view=VIEW),
        ]
    )
    assert registry.views == (VIEW, other)
    assert registry.view("ui://openphone/other.html") is other
    assert registry.view("ui://openphone/missing.html") is None


def test_describe_input_schema_carries_field_rules() -> None:
    assert echo_tool().describe()["inputSchema"]["properties"] == {
        "text": {
            "description": "what to echo",
            "maxLength": 20,
            "minLength": 1,
            "title": "Text",
            "type": "string",
        },
        "times": {"default": 1, "maximum": 3, "minimum": 1, "title": "Times", "type": "integer"},
    }


def test_describe_read_only_hints() -> None:
    assert echo_tool().describe()["annotations"] == {
        "title": "Echo",
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": False,
    }


def test_chatgpt_sees_only_its_subset_for_listing_and_calls() -> None:
    registry = ToolRegistry([echo_tool("echo"), echo_tool("other")], chatgpt_tools=["other"])
    assert [entry["name"] for entry in registry.listing()] == ["echo", "other"]
    assert [entry["name"] for entry in registry.listing("chatgpt")] == ["other"]
    assert registry.get("echo") is not None
    assert registry.get("echo", "chatgpt") is None


def test_chatgpt_subset_must_name_declared_tools() -> None:
    with pytest.raises(ToolDeclarationError, match="unknown ChatGPT tools: nope"):
        ToolRegistry([echo_tool("echo")], chatgpt_tools=["nope"])


def test_status_texts_fit_openai_limit() -> None:
    meta = echo_tool(title="T" * 100).describe()["_meta"]
    assert len(meta["openai/toolInvocation/invoking"]) == 64
    assert len(meta["openai/toolInvocation/invoked"]) == 64


@pytest.mark.anyio
async def test_run_success_gives_structured_content_and_a_compact_json_copy() -> None:
    """`structuredContent` is held serialised (an `orjson.Fragment`): compared as it is written."""
    result = orjson.loads(orjson.dumps(await echo_tool().run({"text": "hi", "times": 2}, CONTEXT)))
    assert result == {
        "content": [{"type": "text", "text": '{"echoedText":"hihi","times":2}'}],
        "structuredContent": {"echoedText": "hihi", "times": 2},
        "isError": False,
    }


@pytest.mark.anyio
async def test_run_passes_parsed_arguments_and_the_context() -> None:
    recorder = Recorder()
    await echo_tool(handler=recorder).run({"text": "hi"}, CONTEXT)
    assert recorder.calls == [(EchoInput(text="hi", times=1), CONTEXT)]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({}, "Invalid arguments: text: Field required (missing)", id="missing"),
        pytest.param(
            {"text": "", "times": 9},
            "Invalid arguments: text: String should have at least 1 character (string_too_short); "
            "times: Input should be less than or equal to 3 (less_than_equal)",
            id="every-field-named",
        ),
        pytest.param(
            {"text": "hi", "times": "op-secret-value"},
            "Invalid arguments: times: Input should be a valid integer, unable to parse string as an integer "
            "(int_parsing)",
            id="value-not-echoed",
        ),
        pytest.param(
            {"text": ["hi"]},
            "Invalid arguments: text: Input should be a valid string (string_type)",
            id="wrong-type",
        ),
    ],
)
async def test_run_rejects_bad_arguments_before_the_handler(arguments: dict[str, Any], message: str) -> None:
    recorder = Recorder()
    result = await echo_tool(handler=recorder).run(arguments, CONTEXT)
    assert (result, recorder.calls) == ({"content": [{"type": "text", "text": message}], "isError": True}, [])


@pytest.mark.anyio
async def test_run_names_nested_argument_locations() -> None:
    result = await send_tool().run({"to": [{"number": "+15550100"}, {"number": "555"}]}, CONTEXT)
    assert result == {
        "content": [
            {
                "type": "text",
                "text": r"Invalid arguments: to.1.number: String should match pattern '^\+[1-9][0-9]{1,14}$' "
                "(string_pattern_mismatch)",
            }
        ],
        "isError": True,
    }


@pytest.mark.anyio
async def test_run_turns_a_tool_error_into_an_error_result_with_its_message() -> None:
    result = await echo_tool(handler=refuse).run({"text": "hi"}, CONTEXT)
    assert result == {
        "content": [
            {"type": "text", "text": "OpenPhone refused the request: the number is not in your workspace."}
        ],
        "isError": True,
    }


@pytest.mark.anyio
async def test_run_lets_other_exceptions_propagate() -> None:
    """Only ToolError is the model's business; anything else is the server's failure."""
    with pytest.raises(RuntimeError, match=r"^boom$"):
        await echo_tool(handler=crash).run({"text": "hi"}, CONTEXT)


def test_listing_is_in_declaration_order() -> None:
    registry = ToolRegistry([send_tool(), echo_tool("zeta"), echo_tool("alpha")])
    assert [entry["name"] for entry in registry.listing()] == ["send-message", "zeta", "alpha"]


def test_listing_entries_are_the_descriptions() -> None:
    tool = send_tool()
    assert ToolRegistry([tool]).listing() == [tool.describe()]


def test_get_finds_a_tool_by_name() -> None:
    tool = send_tool()
    assert ToolRegistry([echo_tool(), tool]).get("send-message") is tool


def test_get_unknown_name_is_none() -> None:
    assert ToolRegistry([echo_tool()]).get("missing") is None
