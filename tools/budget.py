"""The size budget of a tool answer, and how an answer too large for it is shortened.

Hosts cap what a tool may answer (sources in the README, "Answer sizes"): claude.ai and Claude
Desktop take about 150,000 characters; Claude Code 25,000 tokens by default (MAX_MCP_OUTPUT_TOKENS),
warns above 10,000, and moves a text result over 50,000 characters to a file the model must open;
OpenAI publishes no limit for ChatGPT. The budget counts the whole serialised CallToolResult, the
text copy and `structuredContent` together, in UTF-8 bytes (never fewer than characters): under it,
the text copy a Claude host reads stays under 50,000 characters.

An answer over the budget is never cut mid-JSON. A tool declares a `Fit` that returns fewer items
and says so in its `trimmed` field; the helpers here keep a page's own cursor exact by asking
OpenPhone again for only as many items as fit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Protocol, TypeVar

import orjson
from pydantic import BaseModel, Field

from tools.resources import Wire

RESULT_BUDGET_BYTES: Final = 100_000
# A page asked again can come back larger when data changed in between; then it is asked again, smaller.
_REFETCHES: Final = 3

OutT = TypeVar("OutT", bound=BaseModel)
TrimT = TypeVar("TrimT", bound="Trimmable")


class Trimmable(Wire):
    """Base of a tool output that can be shortened to fit the budget."""

    trimmed: str | None = Field(
        default=None,
        description="Set only when this answer was shortened to fit the size clients accept: "
        "what was left out and how to get it.",
    )


class PagedArguments(Protocol):
    """Tool arguments that ask for a page: at most `max_results` items."""

    @property
    def max_results(self) -> int: ...

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any: ...


def tool_result(output: BaseModel) -> dict[str, Any]:
    """The CallToolResult of `output`, serialised once.

    The text copy is that JSON (MCP 2025-06-18 tools: structured content SHOULD also be returned as
    serialised JSON in a TextContent block), and `structuredContent` the same JSON spliced in as it is
    when the response is encoded (orjson.Fragment).
    """
    structured = output.model_dump_json(by_alias=True)
    return {
        "content": [{"type": "text", "text": structured}],
        "structuredContent": orjson.Fragment(structured),
        "isError": False,
    }


def result_size(result: dict[str, Any]) -> int:
    """The bytes `result` takes in a JSON-RPC response."""
    return len(orjson.dumps(result))


@dataclass(frozen=True, slots=True)
class Budget:
    """What a tool's `Fit` works with: the limit, a measure, and its handler to ask again."""

    limit: int
    rerun: Callable[[Any], Awaitable[Any]]

    def size(self, output: BaseModel) -> int:
        return result_size(tool_result(output))

    def fits(self, output: BaseModel) -> bool:
        return self.size(output) <= self.limit

    def longest(self, count: int, candidate: Callable[[int], BaseModel]) -> int:
        """The largest n of 0..count whose `candidate(n)` fits (a candidate grows with n), by bisection."""
        low, high = 0, count
        while low < high:
            middle = (low + high + 1) // 2
            if self.fits(candidate(middle)):
                low = middle
            else:
                high = middle - 1
        return low


Fit = Callable[[Any, Any, Budget], Awaitable[BaseModel | None]]
"""`(arguments, output, budget)` -> the output shortened to fit, or None when it cannot be."""


def size_note(budget: Budget) -> str:
    return f"Shortened to fit the answer size clients accept ({budget.limit:,} characters)"


def shown_head(output: OutT, items: str, count: int, note: str) -> OutT:
    """`output` with only the first `count` of its `items`, and `note` as what was trimmed."""
    listed: Sequence[Any] = getattr(output, items)
    return output.model_copy(update={items: list(listed[:count]), "trimmed": note})


async def fit_page(
    args: PagedArguments, output: TrimT, budget: Budget, items: str, noun: str
) -> TrimT | None:
    """A page of `items` read from OpenPhone a page at a time, asked again with a `maxResults` that fits.

    OpenPhone's nextPageToken of the smaller page then resumes right after its last item, so paging
    on loses and repeats nothing. None when not even one item fits.
    """
    asked = args.max_results

    def note(count: int, has_more: bool) -> str:
        rest = (
            "nextPageToken continues right after the last one shown"
            if has_more
            else "there are no more after these"
        )
        return f"{size_note(budget)}: {count} of the {asked} {noun} asked for; {rest}."

    for _ in range(_REFETCHES):
        listed: Sequence[Any] = getattr(output, items)
        count = budget.longest(len(listed), partial(_head, output, items, note))
        if count == 0:
            return None
        output = await budget.rerun(args.model_copy(update={"max_results": count}))
        shown = len(getattr(output, items))
        has_more = getattr(output, "next_page_token", None) is not None
        output = output.model_copy(update={"trimmed": note(shown, has_more)})
        if budget.fits(output):
            return output
    return None


def _head(output: OutT, items: str, note: Callable[[int, bool], str], count: int) -> OutT:
    return shown_head(output, items, count, note(count, True))


def fit_list(output: OutT, budget: Budget, items: str, note: Callable[[int, int], str]) -> OutT | None:
    """The longest head of `items` that fits, with `note(shown, of)` saying how to get the rest."""
    listed: Sequence[Any] = getattr(output, items)
    count = budget.longest(len(listed), lambda n: shown_head(output, items, n, note(n, len(listed))))
    return shown_head(output, items, count, note(count, len(listed))) if count else None


def page_fit(items: str, noun: str | None = None) -> Fit:
    """The `Fit` of a tool whose answer is one OpenPhone page of `items` (`fit_page`)."""

    async def fit(args: Any, output: Any, budget: Budget) -> BaseModel | None:
        return await fit_page(args, output, budget, items, noun or items)

    return fit
