"""The answer size budget (`tools/budget.py`) and how `Tool.run` keeps to it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.tools.test_registry import CONTEXT, READ_ONLY, SENDS
from tools.budget import RESULT_BUDGET_BYTES, Budget, Trimmable, fit_list, result_size, tool_result
from tools.registry import Tool, ToolAnnotations, ToolContext
from tools.resources import Wire


class Lines(Trimmable):
    lines: list[str]


class Count(Wire):
    count: int


async def _never(again: Any) -> Any:
    raise AssertionError("not asked again")


def budget(limit: int) -> Budget:
    return Budget(limit, _never)


@given(
    lines=st.lists(st.text(max_size=30), max_size=40),
    limit=st.integers(min_value=0, max_value=800),
)
def test_longest_is_the_most_items_that_fit(lines: list[str], limit: int) -> None:
    measure = budget(limit)
    output = Lines(lines=lines)

    def head(count: int) -> Lines:
        return Lines(lines=lines[:count])

    count = measure.longest(len(lines), head)
    assert count == 0 or measure.fits(head(count))
    assert count == len(lines) or not measure.fits(head(count + 1))
    assert measure.size(output) == result_size(tool_result(output))


def test_fit_list_says_what_it_left_out() -> None:
    output = Lines(lines=["x" * 100] * 10)
    shown = fit_list(output, budget(1_000), "lines", lambda shown, of: f"{shown} of {of}")
    assert shown is not None
    assert shown.trimmed == f"{len(shown.lines)} of 10"
    assert 0 < len(shown.lines) < 10
    assert budget(1_000).fits(shown)


def test_fit_list_gives_none_when_not_one_item_fits() -> None:
    assert fit_list(Lines(lines=["x" * 2_000]), budget(1_000), "lines", lambda shown, of: "") is None


def test_the_text_copy_and_structured_content_both_count() -> None:
    """A quote takes two bytes in structuredContent (`\\"`) and four in the text copy, escaped again."""
    plain, quoted = tool_result(Lines(lines=["a" * 100])), tool_result(Lines(lines=['"' * 100]))
    assert result_size(quoted) - result_size(plain) == 400


async def _huge(arguments: BaseModel, context: ToolContext) -> Lines:
    return Lines(lines=["x" * 1_000] * 200)


def huge_tool(annotations: ToolAnnotations) -> Tool[Count, Lines]:
    return Tool(
        name="huge",
        title="Huge",
        description="Answer more than the budget.",
        input_model=Count,
        output_model=Lines,
        handler=_huge,
        annotations=annotations,
        scope="test",
    )


@pytest.mark.anyio
async def test_a_read_too_large_with_no_fit_is_a_tool_error_never_a_cut_json() -> None:
    result = await huge_tool(READ_ONLY).run({"count": 1}, CONTEXT)
    assert result == {
        "content": [
            {
                "type": "text",
                "text": "The answer would be 401,732 characters, more than the 100,000 clients accept, even "
                "shortened. Ask for less: a smaller maxResults or a narrower time window.",
            }
        ],
        "isError": True,
    }


@pytest.mark.anyio
async def test_a_write_too_large_is_answered_whole() -> None:
    """What was sent is never withheld: a model told less could send again."""
    result = await huge_tool(SENDS).run({"count": 1}, CONTEXT)
    assert result["isError"] is False
    assert result_size(result) > RESULT_BUDGET_BYTES
    assert len(orjson.loads(result["content"][0]["text"])["lines"]) == 200
