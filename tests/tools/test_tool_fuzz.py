"""Hypothesis: arbitrary tool arguments, to every tool of the catalogue, never produce a 500, an internal
error or a traceback."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import LiveServer
from tests.tools.conftest import post_tool_call
from tools.catalog import OPENPHONE_TOOLS
from tools.sandbox import SANDBOX_API_KEY, SandboxState
from tools.sandbox import data as seed

SAMPLES = (
    seed.MAIN_LINE_NUMBER,
    seed.MAIN_LINE_ID,
    seed.JORDAN_NUMBER,
    "(415) 555-0123",
    "PN",
    "+999",
    "ACsandboxMsgAlpha01",
    seed.CALL_VOICEMAIL_ID,
    seed.CALL_VOICEMAIL_PROCESSING_ID,
    seed.CALL_TWO_RECORDINGS_ID,
    seed.OWNER_USER_ID,
    seed.CONTACT_JORDAN_ID,
    "2026-10-01T00:00:00Z",
    "../../v1/webhooks",
    "",
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(SAMPLES)
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(OPENPHONE_TOOLS))
    names = [*tool.input_model.model_json_schema(by_alias=True).get("properties", {}), "unexpected"]
    arguments = draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=len(names)))
    return tool.name, arguments


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=tool_calls())
def test_arbitrary_arguments_never_break_the_gateway(
    tool_server: LiveServer, sandbox: SandboxState, call: tuple[str, dict[str, Any]]
) -> None:
    name, arguments = call
    answer = post_tool_call(tool_server, name, arguments)
    assert "error" not in answer, answer
    result = answer["result"]
    assert isinstance(result["isError"], bool)
    text = result["content"][0]["text"]
    assert "Traceback" not in text
    assert SANDBOX_API_KEY not in text
