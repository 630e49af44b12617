"""Parameter tables and example calls derived from JSON Schemas (landing/examples.py)."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from landing.examples import (
    Parameter,
    curl_command,
    example_arguments,
    limits_of,
    parameter_table,
    shown_api_key,
    tools_call_request,
    type_label,
)
from tools.catalog import OPENPHONE_TOOLS
from tools.messages import SEND_MESSAGE
from tools.registry import Tool

DEFS: dict[str, Any] = {"EmailEntry": {"type": "object", "properties": {"value": {"type": "string"}}}}


@pytest.mark.parametrize("tool", [pytest.param(tool, id=tool.name) for tool in OPENPHONE_TOOLS])
def test_every_tool_example_is_accepted_by_its_input_model(tool: Tool[Any, Any]) -> None:
    """The page never shows a call the tool would refuse."""
    arguments = example_arguments(tool.describe()["inputSchema"])
    tool.input_model.model_validate(arguments, context={"region": "US"})


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        pytest.param({"type": "string"}, "string", id="plain"),
        pytest.param({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer", id="nullable"),
        pytest.param({"type": "string", "format": "date-time"}, "string (date-time)", id="format"),
        pytest.param({"type": "array", "items": {"type": "string"}}, "array of string", id="array"),
        pytest.param({"$ref": "#/$defs/EmailEntry"}, "EmailEntry", id="ref"),
        pytest.param(
            {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/EmailEntry"}}, {"type": "null"}]},
            "array of EmailEntry",
            id="nullable-array-of-ref",
        ),
        pytest.param({"anyOf": [{"type": "string"}, {"type": "number"}]}, "string | number", id="union"),
        pytest.param({}, "any", id="untyped"),
    ],
)
def test_type_label(spec: dict[str, Any], label: str) -> None:
    assert type_label(spec, DEFS) == label


@pytest.mark.parametrize(
    ("spec", "limits"),
    [
        pytest.param(
            {"type": "string", "minLength": 2, "maxLength": 40}, ("2 to 40 characters",), id="length"
        ),
        pytest.param({"type": "string", "maxLength": 64}, ("at most 64 characters",), id="max-length"),
        pytest.param(
            {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
            ("1 to 100", "default 20"),
            id="range",
        ),
        pytest.param({"type": "integer", "minimum": 0}, ("at least 0",), id="minimum"),
        pytest.param({"type": "string", "pattern": "^US.+$"}, ("pattern ^US.+$",), id="pattern"),
        pytest.param({"type": "string", "enum": ["a", "b"]}, ('one of: "a", "b"',), id="enum"),
        pytest.param(
            {"anyOf": [{"type": "string", "const": "done"}, {"type": "null"}], "default": None},
            ('one of: "done"',),
            id="nullable-const",
        ),
        pytest.param(
            {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "string", "minLength": 2}},
            ("1 to 100 items", "each: at least 2 characters"),
            id="items",
        ),
        pytest.param({"type": "boolean"}, (), id="none"),
    ],
)
def test_limits_of(spec: dict[str, Any], limits: tuple[str, ...]) -> None:
    assert limits_of(spec, DEFS) == limits


def test_the_parameter_table_lists_required_parameters_first() -> None:
    rows = parameter_table(SEND_MESSAGE.describe()["inputSchema"])
    assert [(row.name, row.type, row.is_required) for row in rows] == [
        ("from", "string", True),
        ("to", "string", True),
        ("content", "string", True),
        ("userId", "string", False),
        ("setInboxStatus", "string", False),
    ]
    assert rows[3] == Parameter(
        name="userId",
        type="string",
        is_required=False,
        limits=("at most 64 characters", "pattern ^US[A-Za-z0-9_-]+$"),
        description="Send as this user (US…); defaults to the number's owner.",
    )


@pytest.mark.parametrize(
    ("schema", "arguments"),
    [
        pytest.param(
            {
                "type": "object",
                "examples": [{"to": "+15551234567"}],
                "properties": {"to": {"type": "string"}},
            },
            {"to": "+15551234567"},
            id="schema-examples-win",
        ),
        pytest.param(
            {
                "type": "object",
                "required": ["to"],
                "properties": {"to": {"type": "string", "examples": ["+15557654321"]}},
            },
            {"to": "+15557654321"},
            id="property-examples-win",
        ),
        pytest.param(
            {
                "type": "object",
                "required": ["from", "content", "to"],
                "properties": {
                    "from": {"type": "string"},
                    "content": {"type": "string"},
                    "to": {"type": "array", "items": {"type": "string"}},
                },
            },
            {"from": "+14155550100", "content": "Hello from the gateway", "to": ["+14155550123"]},
            id="named",
        ),
        pytest.param(
            {
                "type": "object",
                "required": ["callId", "id", "when", "limit", "flag", "label"],
                "properties": {
                    "callId": {"type": "string", "description": "The call (AC…)."},
                    "id": {"type": "string", "pattern": "^US[A-Za-z0-9]+$"},
                    "when": {"type": "string", "format": "date-time"},
                    "limit": {"type": "integer", "minimum": 5},
                    "flag": {"type": "boolean"},
                    "label": {"type": "string", "minLength": 10},
                },
            },
            {
                "callId": "AC123abc456def",
                "id": "US123abc456def",
                "when": "2026-11-01T09:00:00Z",
                "limit": 5,
                "flag": False,
                "label": "examplexxx",
            },
            id="by-type",
        ),
        pytest.param(
            {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "string"},
                    "lastName": {"type": "string"},
                    "note": {"type": "string"},
                },
            },
            {"id": "123abc456def", "lastName": "Cooper"},
            id="optional-with-a-known-name",
        ),
    ],
)
def test_example_arguments(schema: dict[str, Any], arguments: dict[str, Any]) -> None:
    assert example_arguments(schema) == arguments


@pytest.mark.parametrize(
    ("is_sandbox", "key"),
    [
        pytest.param(True, "sandbox-demo-key", id="sandbox"),
        pytest.param(False, "$OPENPHONE_API_KEY", id="real"),
    ],
)
def test_shown_api_key(is_sandbox: bool, key: str) -> None:
    assert shown_api_key(is_sandbox) == key


def test_the_curl_command_for_the_sandbox_key() -> None:
    request = tools_call_request("list-phone-numbers", {})
    assert curl_command("http://127.0.0.1:8000/mcp", request, "sandbox-demo-key") == (
        "curl -s http://127.0.0.1:8000/mcp \\\n"
        "  -H 'content-type: application/json' \\\n"
        "  -H 'accept: application/json, text/event-stream' \\\n"
        "  -H 'x-openphone-api-key: sandbox-demo-key' \\\n"
        """  -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","""
        """"params":{"name":"list-phone-numbers","arguments":{}}}'"""
    )


def test_the_curl_command_lets_the_shell_expand_a_key_variable() -> None:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    assert curl_command("https://gw.example.test/mcp", request, "$OPENPHONE_API_KEY") == (
        "curl -s https://gw.example.test/mcp \\\n"
        "  -H 'content-type: application/json' \\\n"
        "  -H 'accept: application/json, text/event-stream' \\\n"
        '  -H "x-openphone-api-key: $OPENPHONE_API_KEY" \\\n'
        """  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'"""
    )


def test_the_curl_body_survives_the_shell_with_quotes_in_it() -> None:
    """A single quote in an argument is escaped, so the shell hands curl the exact JSON."""
    request = tools_call_request("send-message", {"content": "It's done"})
    command = curl_command("http://127.0.0.1:8000/mcp", request, "sandbox-demo-key")
    words = shlex.split(command.replace("\\\n", " "))
    assert json.loads(words[words.index("-d") + 1]) == request
