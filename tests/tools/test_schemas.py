"""The schemas the catalogue publishes: strict MCP clients need a type for every value (item 20)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tools.catalog import build_registry

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
