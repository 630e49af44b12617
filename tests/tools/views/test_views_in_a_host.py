"""Each view in a real browser, hosted the way MCP Apps hosts do it, fed real results from the sandbox.

Every test runs under the strictest sandbox (`allow-scripts` alone) and under two host bridges, the
hand-written one and the official SDK's AppBridge (see conftest.py)."""

from __future__ import annotations

import re
from typing import Any, Final

import pytest
from playwright.async_api import expect

from tests.tools.views.conftest import HostedView, OpenView
from tools.sandbox import SandboxState
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

# view, tool, arguments, and a text the view must show.
SCENARIOS: Final[dict[str, tuple[str, dict[str, Any], str]]] = {
    "thread": (
        "fetch-messages",
        {"inbox": seed.MAIN_LINE_NUMBER, "participant": seed.JORDAN_NUMBER, "maxResults": 10},
        "Perfect, talk soon.",
    ),
    "conversations": ("list-conversations", {}, "Jordan Rivera"),
    "call": (
        "fetch-call-transcripts",
        {"inbox": seed.MAIN_LINE_NUMBER, "participant": seed.JORDAN_NUMBER},
        "Incoming call with +14155550123",
    ),
    "contact": ("get-contact", {"id": seed.CONTACT_JORDAN_ID}, "Jordan Rivera"),
    "bulk": (
        "bulk-messages",
        {
            "from": seed.MAIN_LINE_NUMBER,
            "to": [seed.JORDAN_NUMBER, seed.PRIYA_NUMBER, seed.JORDAN_NUMBER],
            "content": "We are closed on Friday.",
        },
        "Duplicates: 1",
    ),
}
BACKGROUNDS: Final = {"light": "rgb(255, 255, 255)", "dark": "rgb(27, 30, 35)"}
BODY_BACKGROUND_JS: Final = "() => getComputedStyle(document.body).backgroundColor"


async def open_scenario(open_view: OpenView, view: str, theme: str = "light") -> HostedView:
    tool, arguments, _ = SCENARIOS[view]
    return await open_view(view, tool, arguments, theme=theme)


def bubbles(hosted: HostedView) -> Any:
    return hosted.frame.locator("li.bubble")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("view", list(SCENARIOS))
async def test_the_view_shows_the_result_cleanly_in_the_hosts_theme(
    open_view: OpenView, view: str, theme: str
) -> None:
    """Data shown, theme applied, size reported; no console error, CSP violation or outside request."""
    hosted = await open_scenario(open_view, view, theme)
    await expect(hosted.frame.get_by_text(SCENARIOS[view][2]).first).to_be_visible()
    await hosted.wait_until_sized()
    assert await hosted.evaluate(BODY_BACKGROUND_JS) == BACKGROUNDS[theme]
    assert await hosted.evaluate("document.documentElement.dataset.theme") == theme
    await hosted.screenshot(f"{view}-{theme}")
    assert hosted.watched.console_errors == []
    assert hosted.watched.console_warnings == []
    assert hosted.watched.csp_violations == []
    host_page, *loaded = hosted.watched.requests
    host_origin = host_page.split("/host?")[0]
    assert [url for url in loaded if not url.startswith(f"{host_origin}/")] == [hosted.view_url]
    (initialize,) = await hosted.requests("ui/initialize")
    assert initialize["params"]["protocolVersion"] == "2026-01-26"


@pytest.mark.parametrize("view", list(SCENARIOS))
async def test_the_view_says_it_is_initialized_before_it_sends_anything_else(
    open_view: OpenView, view: str
) -> None:
    """The order of the SDK's `App.connect()`: `ui/initialize`, then `ui/notifications/initialized`
    (no params), and only then its size; a strict host may drop what comes before `initialized`."""
    hosted = await open_scenario(open_view, view)
    await hosted.wait_until_sized()
    initialize, initialized, *_ = await hosted.log()
    assert initialize["method"] == "ui/initialize"
    assert initialized == {"jsonrpc": "2.0", "method": "ui/notifications/initialized"}


async def test_a_summary_shows_points_and_next_steps(open_view: OpenView) -> None:
    hosted = await open_view("call", "get-call-summary", {"callId": seed.CALL_WITH_JOBS_ID})
    headings = hosted.frame.locator("h3")
    await expect(headings).to_have_text(["Summary", "Next steps"])
    assert hosted.watched.console_errors == []


async def test_hostile_markup_in_a_message_renders_as_text(open_view: OpenView) -> None:
    """A stranger's `<img onerror>` and `</script>` are shown verbatim and run nothing."""
    hosted = await open_view(
        "thread",
        "fetch-messages",
        {"inbox": seed.MAIN_LINE_NUMBER, "participant": seed.UNKNOWN_CALLER_NUMBER},
    )
    hostile = hosted.frame.locator("li.bubble .text").last
    await expect(hostile).to_have_text(seed.HOSTILE_TEXT)
    assert await hosted.frame.locator("img, script:not(:first-of-type)").count() == 0
    assert await hosted.frame.locator("li.bubble script, li.bubble img").count() == 0
    assert hosted.watched.console_errors == []
    assert hosted.watched.csp_violations == []


async def test_older_pages_back_through_the_app_only_tool_by_keyboard(open_view: OpenView) -> None:
    hosted = await open_scenario(open_view, "thread")
    older = hosted.frame.get_by_role("button", name="Older")
    await expect(bubbles(hosted)).to_have_count(10)
    await older.focus()
    await hosted.watched.page.keyboard.press("Enter")
    await expect(bubbles(hosted)).to_have_count(20)
    await older.focus()
    await hosted.watched.page.keyboard.press("Enter")
    await expect(bubbles(hosted)).to_have_count(25)
    await expect(older).to_be_hidden()
    await expect(bubbles(hosted).first.locator(".text")).to_have_text(
        "Hi, this is Jordan Rivera. Is anyone free to look at a leaking water heater this week?"
    )
    calls = await hosted.requests("tools/call")
    assert [call["params"]["name"] for call in calls] == ["read-thread", "read-thread"]
    assert calls[0]["params"]["arguments"]["participant"] == seed.JORDAN_NUMBER
    assert hosted.watched.console_errors == []


async def test_draft_a_reply_hands_a_message_to_the_conversation_and_calls_no_tool(
    open_view: OpenView, sandbox: SandboxState
) -> None:
    hosted = await open_scenario(open_view, "thread")
    await hosted.frame.get_by_label("Ideas for a reply (optional)").fill("Confirm Monday works")
    await hosted.frame.get_by_role("button", name="Draft a reply").click()
    await expect(hosted.frame.get_by_role("status").last).to_have_text(
        "Asked for a draft in the conversation. Nothing was sent."
    )
    (message,) = await hosted.requests("ui/message")
    ask = f"Draft a reply to {seed.JORDAN_NUMBER} in my OpenPhone thread from {seed.MAIN_LINE_ID}"
    text = f'{ask}, based on this: "Confirm Monday works". Show me the draft; do not send it until I confirm.'
    assert message["params"] == {"role": "user", "content": [{"type": "text", "text": text}]}
    assert await hosted.requests("tools/call") == []
    assert sandbox.sent_messages == []
    assert hosted.watched.console_errors == []


async def test_a_message_the_host_refuses_is_reported_as_not_taken(open_view: OpenView) -> None:
    """A host answers `ui/message` with `isError: true` when it rejects it (McpUiMessageResult)."""
    tool, arguments, _ = SCENARIOS["thread"]
    hosted = await open_view("thread", tool, arguments, refuse_messages=True)
    await hosted.frame.get_by_role("button", name="Draft a reply").click()
    await expect(hosted.frame.get_by_role("status").last).to_have_text("The host did not take the message.")
    assert len(await hosted.requests("ui/message")) == 1


async def test_choosing_a_conversation_opens_its_thread(open_view: OpenView) -> None:
    hosted = await open_scenario(open_view, "conversations")
    await hosted.frame.get_by_role("button", name="Open the thread with Priya Shah").focus()
    await hosted.watched.page.keyboard.press("Enter")
    await expect(hosted.frame.get_by_role("heading", name=f"Thread with {seed.PRIYA_NUMBER}")).to_be_focused()
    await expect(bubbles(hosted)).to_have_count(4)
    (call,) = await hosted.requests("tools/call")
    assert call["params"] == {
        "name": "read-thread",
        "arguments": {"inbox": seed.MAIN_LINE_ID, "participant": seed.PRIYA_NUMBER},
    }
    await hosted.frame.get_by_role("button", name="Back to conversations").click()
    await expect(hosted.frame.get_by_role("button", name="Open the thread with Priya Shah")).to_be_focused()


async def test_the_hosts_style_variables_win_over_the_fallbacks(open_view: OpenView) -> None:
    tool, arguments, _ = SCENARIOS["contact"]
    hosted = await open_view(
        "contact", tool, arguments, variables={"--color-background-primary": "rgb(1, 2, 3)"}
    )
    assert await hosted.evaluate(BODY_BACKGROUND_JS) == "rgb(1, 2, 3)"


async def test_without_structured_content_the_view_reads_the_json_text(open_view: OpenView) -> None:
    tool, arguments, shown = SCENARIOS["contact"]
    hosted = await open_view("contact", tool, arguments, drop_structured=True)
    await expect(hosted.frame.get_by_role("heading", name=shown)).to_be_visible()
    assert hosted.watched.console_errors == []


async def test_a_failed_call_shows_its_message(open_view: OpenView) -> None:
    hosted = await open_view("contact", "get-contact", {"id": "6740a1c2e3f40516273849ff"})
    await expect(hosted.frame.get_by_role("alert")).to_have_text(
        re.compile(
            r"OpenPhone found nothing with that id: Contact not found\. Check the id, or list the items to "
            r"find the right one\. \(OpenPhone trace \d+\)"
        )
    )
    assert hosted.watched.console_errors == []


async def test_times_are_shown_in_the_hosts_locale_and_time_zone(open_view: OpenView) -> None:
    """The newest Alpha message was sent at 21:00 UTC: 5:00 PM in the host's America/New_York."""
    hosted = await open_scenario(open_view, "thread")
    newest = bubbles(hosted).last.locator("time")
    await expect(newest).to_have_attribute("datetime", "2026-10-20T21:00:00.000Z")
    await expect(newest).to_have_text("Oct 20, 2026, 5:00 PM")


async def test_a_theme_change_from_the_host_applies_at_once(open_view: OpenView) -> None:
    hosted = await open_scenario(open_view, "bulk")
    await hosted.change_host_context({"theme": "dark"})
    await expect(hosted.frame.locator("html")).to_have_attribute("data-theme", "dark")
    assert await hosted.evaluate(BODY_BACKGROUND_JS) == BACKGROUNDS["dark"]
