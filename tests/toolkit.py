"""Test tools: small, real tools registered only in tests, to drive the protocol core end to end."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from pydantic import BaseModel, Field

from tools.errors import ToolError
from tools.registry import READ_ONLY, Tool, ToolContext, ToolRegistry

CANCEL_WAIT_SECONDS = 5.0


class AddInput(BaseModel):
    a: int = Field(description="first addend", ge=-1_000_000, le=1_000_000)
    b: int = Field(description="second addend", ge=-1_000_000, le=1_000_000)


class Sum(BaseModel):
    total: int


class StepsInput(BaseModel):
    steps: int = Field(ge=1, le=20)
    delay_seconds: float = Field(default=0.01, ge=0, le=1)


class StepsDone(BaseModel):
    steps_done: int


class WaitInput(BaseModel):
    label: str = Field(min_length=1, max_length=40)


class Empty(BaseModel):
    pass


@dataclass
class Probe:
    """What the test tools saw, so a test can check the server side of a cancellation.

    The server runs on its own thread and event loop, so waiting happens on a threading.Event.
    """

    started: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    _cancellations: defaultdict[str, threading.Event] = field(
        default_factory=lambda: defaultdict(threading.Event)
    )

    def note_cancelled(self, label: str) -> None:
        self.cancelled.add(label)
        self._cancellations[label].set()

    async def wait_cancelled(self, label: str) -> bool:
        """Whether the call labelled `label` was cancelled within CANCEL_WAIT_SECONDS."""
        return await anyio.to_thread.run_sync(self._cancellations[label].wait, CANCEL_WAIT_SECONDS)


def build_test_registry(probe: Probe) -> ToolRegistry:
    """A registry of test tools reporting to `probe`."""

    async def add(arguments: AddInput, context: ToolContext) -> Sum:
        return Sum(total=arguments.a + arguments.b)

    async def count_steps(arguments: StepsInput, context: ToolContext) -> StepsDone:
        for step in range(1, arguments.steps + 1):
            await anyio.sleep(arguments.delay_seconds)
            await context.report_progress(step, arguments.steps, f"step {step}")
        return StepsDone(steps_done=arguments.steps)

    async def wait_forever(arguments: WaitInput, context: ToolContext) -> Empty:
        probe.started.add(arguments.label)
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            probe.note_cancelled(arguments.label)
            raise
        finally:
            probe.finished.add(arguments.label)
        return Empty()

    async def refuse(arguments: Empty, context: ToolContext) -> Empty:
        raise ToolError("The upstream refused the request.")

    async def crash(arguments: Empty, context: ToolContext) -> Empty:
        raise RuntimeError("secret internals: key=sk-should-never-leak")

    def tool(
        name: str,
        model: type[BaseModel],
        output: type[BaseModel],
        handler: Callable[[Any, ToolContext], Awaitable[Any]],
    ) -> Tool[Any, Any]:
        return Tool(
            name=name,
            title=name.replace("-", " ").title(),
            description=f"Test tool {name}.",
            input_model=model,
            output_model=output,
            handler=handler,
            annotations=READ_ONLY,
            scope="test",
        )

    return ToolRegistry(
        [
            tool("add", AddInput, Sum, add),
            tool("count-steps", StepsInput, StepsDone, count_steps),
            tool("wait-forever", WaitInput, Empty, wait_forever),
            tool("refuse", Empty, Empty, refuse),
            tool("crash", Empty, Empty, crash),
        ]
    )


async def eventually(check: Callable[[], Awaitable[bool]], within: float, interval: float = 0.02) -> float:
    """Poll `check` until it is true, returning the seconds it took; fail after `within` seconds."""
    started = anyio.current_time()
    for _ in range(int(within / interval) + 1):
        if await check():
            return anyio.current_time() - started
        await anyio.sleep(interval)
    raise AssertionError(f"not true within {within} s")
