"""The schemas the catalogue publishes: exactly what the tool models generate (`tools/schemas.json`), and
a type for every value, which strict MCP clients need (item 20)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tools.catalog import OPENPHONE_TOOLS, build_registry
from tools.registry import ToolRegistry
from tools.schemas import SCHEMAS_PATH, generated_schemas

# A node states what it holds with one of these; a bare {} or {"description": …} does not.
TYPING_KEYWORDS = ("type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const")
LISTING = build_registry().listing()


def value_schemas(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema that describes a value: properties, array items, union members and definitions."""
    for name, child in schema.get("properties", {}).items():
        yield f"{where}.{name}", child
        yield from value_schemas(child, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        yield f"{where}[]", schema["items"]
        yield from value_schemas(schema["items"], f"{where}[]")
    for keyword in ("anyOf", "oneOf", "allOf"):
        for index, member in enumerate(schema.get(keyword, [])):
            yield f"{where}|{index}", member
            yield from value_schemas(member, f"{where}|{index}")
    for name, definition in schema.get("$defs", {}).items():
        yield from value_schemas(definition, f"$defs.{name}")


@pytest.mark.parametrize("tool", LISTING, ids=[tool["name"] for tool in LISTING])
def test_every_value_in_a_tool_schema_has_a_type(tool: dict[str, Any]) -> None:
    """The Inspector's --strict mode warned that CustomFieldValue.value had none (four contact tools)."""
    untyped = [
        where
        for key in ("inputSchema", "outputSchema")
        if key in tool
        for where, schema in value_schemas(tool[key], key)
        if not any(keyword in schema for keyword in TYPING_KEYWORDS)
    ]
    assert untyped == []


def test_the_published_schemas_are_what_the_models_generate() -> None:
    """A changed tool model fails here until `python -m tools.schemas` rewrites the file."""
    assert SCHEMAS_PATH.read_bytes() == generated_schemas(OPENPHONE_TOOLS), "run `python -m tools.schemas`"


def test_the_catalogue_lists_the_same_entries_as_generating_the_schemas_would() -> None:
    """Every audience's tools/list, from the file, equals the listing built from the models."""
    published = build_registry()
    live = ToolRegistry(OPENPHONE_TOOLS, chatgpt_tools=published.chatgpt_tools)
    for audience in ("default", "chatgpt"):
        assert published.listing(audience) == live.listing(audience)
