"""The README's tool table is the one the declarations generate (`tools/docs.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from tools.catalog import TOOL_NAMES
from tools.docs import END_MARKER, START_MARKER, tools_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_generated_from_the_declarations() -> None:
    text = README.read_text()
    embedded = text.split(START_MARKER, 1)[1].split(END_MARKER, 1)[0].strip()
    assert embedded == tools_table(), "README is stale: paste the output of `openphone-mcp tools`"


def test_the_table_has_one_row_per_tool_in_listing_order() -> None:
    rows = tools_table().splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == list(TOOL_NAMES)


def test_the_tools_command_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools"]) == 0
    assert capsys.readouterr().out == tools_table() + "\n"
