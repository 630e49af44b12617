"""Debian's Chromium driven by Playwright, and what the browser reports: fixtures for every browser test.

Registered for the whole suite (`pytest_plugins` in tests/conftest.py), so the landing, consent and
view tests share one Chromium. Playwright's own browser downloads do not work here, so the tests drive
`/usr/bin/chromium` (the Debian package `scripts/test` installs). The async API is used because the
sync one cannot run inside the event loop the anyio plugin runs the tests in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Final

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

CHROMIUM: Final = "/usr/bin/chromium"
# --disable-background-networking and friends: this machine's network is closed, and Chromium's own
# background connections would otherwise fail by the dozen at every start.
CHROMIUM_ARGS: Final = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Runs in every document before its own scripts, and reports each CSP violation back to the test.
REPORT_CSP_VIOLATIONS: Final = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


@dataclass
class WatchedPage:
    """A browser tab, with every CSP violation, console error and request it saw (across navigations)."""

    page: Page
    csp_violations: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def record_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)
        elif message.type == "warning":
            self.console_warnings.append(message.text)


OpenPage = Callable[..., Awaitable[WatchedPage]]


@pytest.fixture(scope="session")
async def browser(anyio_backend: str) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, started once for the session."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def open_page(browser: Browser) -> AsyncIterator[OpenPage]:
    """Opens `url` (answering `expect_status`) in a fresh browser context made with the given options.

    `functions` are exposed to the page's scripts before it loads.
    """
    async with AsyncExitStack() as stack:

        async def open_watched(
            url: str,
            *,
            expect_status: int = 200,
            functions: Mapping[str, Callable[..., Any]] | None = None,
            **context_options: Any,
        ) -> WatchedPage:
            context: BrowserContext = await browser.new_context(**context_options)
            stack.push_async_callback(context.close)
            violations: list[str] = []

            def report_csp_violation(description: str) -> None:
                violations.append(description)

            await context.expose_function("reportCspViolation", report_csp_violation)
            for name, function in (functions or {}).items():
                await context.expose_function(name, function)
            await context.add_init_script(REPORT_CSP_VIOLATIONS)
            watched = WatchedPage(await context.new_page(), csp_violations=violations)
            page = watched.page
            page.on("console", watched.record_console)
            page.on("request", lambda request: watched.requests.append(request.url))
            page.on("pageerror", lambda error: watched.console_errors.append(str(error)))
            response = await page.goto(url, wait_until="load")
            assert response is not None
            assert response.status == expect_status
            return watched

        yield open_watched
