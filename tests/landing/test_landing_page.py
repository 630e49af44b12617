"""The landing page in a real browser: CSP-clean, themed, tabbed, copyable, readable without script."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Final

import httpx
import pytest
from playwright.async_api import expect
from starlette.applications import Starlette

from gateway.settings import Settings
from landing.page import landing_routes
from tests.browser import OpenPage
from tests.conftest import make_settings
from tests.landing.conftest import Gateway
from tools.catalog import OPENPHONE_TOOLS, build_registry

pytestmark = pytest.mark.anyio

TABS: Final = (("tab-claude", "setup-claude"), ("tab-chatgpt", "setup-chatgpt"), ("tab-other", "setup-other"))
BACKGROUNDS: Final = {"light": "rgb(246, 247, 249)", "dark": "rgb(14, 17, 22)"}
WCAG_AA_BODY_TEXT: Final = 4.5
_NONCE: Final = re.compile(r'<script nonce="([^"]+)">')
_QUICKSTART: Final = re.compile(r'<code id="other-curl">([^<]*)</code>')
_STYLESHEET: Final = re.compile(r'<link rel="stylesheet" href="([^"]*)">')
# Each element's text colour against the first opaque background behind it, as the browser paints it.
_COLOUR_PAIRS_JS: Final = """
(selectors) => selectors.map((selector) => {
  const element = document.querySelector(selector);
  let behind = element;
  let background = getComputedStyle(behind).backgroundColor;
  while (background === "rgba(0, 0, 0, 0)" && behind.parentElement) {
    behind = behind.parentElement;
    background = getComputedStyle(behind).backgroundColor;
  }
  return [selector, getComputedStyle(element).color, background];
})
"""


def _landing_client(settings: Settings) -> httpx.AsyncClient:
    """An in-process client for the landing routes alone, built from `settings`."""
    app = Starlette(routes=landing_routes(settings, build_registry()))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=settings.public_origin)


def _relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of an `rgb(r, g, b)` colour."""
    channels = [int(part) / 255 for part in re.findall(r"\d+", colour)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_relative_luminance(foreground), _relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def test_the_page_loads_with_no_csp_violation_and_no_console_error(
    gateway: Gateway, open_page: OpenPage
) -> None:
    """Every script, style, image and font the page uses is allowed by its own policy."""
    watched = await open_page(f"{gateway.url}/")
    await watched.page.wait_for_load_state("networkidle")
    assert await watched.page.title() == "OpenPhone MCP Gateway"
    assert watched.csp_violations == []
    assert watched.console_errors == []


async def test_the_page_has_an_exact_csp_with_a_fresh_nonce_and_is_revalidated(gateway: Gateway) -> None:
    """Each response has its own nonce; the policy allows nothing beyond this origin and that nonce."""
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        first = await http.get("/")
        second = await http.get("/")
    nonces = []
    for response in (first, second):
        assert response.status_code == 200
        match = _NONCE.search(response.text)
        assert match is not None
        nonce = match.group(1)
        nonces.append(nonce)
        assert response.headers["content-security-policy"] == (
            f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
            "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'"
        )
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert nonces[0] != nonces[1]


async def test_outside_the_sandbox_examples_use_the_key_from_the_shell() -> None:
    """Without `--sandbox` there is no demo key notice, and examples read `$OPENPHONE_API_KEY`."""
    async with _landing_client(make_settings(8000, public_url="https://gw.example.test")) as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert 'id="sandbox-notice"' not in response.text
    quickstart = _QUICKSTART.search(response.text)
    assert quickstart is not None
    assert html.unescape(quickstart.group(1)) == (
        "curl -s https://gw.example.test/mcp \\\n"
        "  -H 'content-type: application/json' \\\n"
        "  -H 'accept: application/json, text/event-stream' \\\n"
        '  -H "x-openphone-api-key: $OPENPHONE_API_KEY" \\\n'
        """  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'"""
    )


async def test_under_a_public_url_path_the_page_and_its_files_move_with_it() -> None:
    """PUBLIC_URL https://gw.example.test/openphone serves `/openphone/` and `/openphone/static/…`."""
    settings = make_settings(8000, public_url="https://gw.example.test/openphone")
    async with _landing_client(settings) as http:
        page = await http.get("/openphone/")
        stylesheet = await http.get("/openphone/static/site.css")
        script = await http.get("/openphone/static/site.js")
        root = await http.get("/")
    assert page.status_code == 200
    assert _STYLESHEET.findall(page.text) == ["/openphone/static/site.css"]
    assert (stylesheet.status_code, stylesheet.headers["content-type"]) == (200, "text/css; charset=utf-8")
    assert (script.status_code, script.headers["content-type"]) == (200, "text/javascript; charset=utf-8")
    assert root.status_code == 404


async def test_the_page_loads_nothing_from_another_origin(gateway: Gateway, open_page: OpenPage) -> None:
    """No CDN fonts, scripts or images: every request the page makes goes to the gateway itself."""
    watched = await open_page(f"{gateway.url}/")
    await watched.page.wait_for_load_state("networkidle")
    assert sorted(watched.requests) == [
        f"{gateway.url}/",
        f"{gateway.url}/static/site.css",
        f"{gateway.url}/static/site.js",
    ]


async def test_the_theme_follows_the_system_by_default(gateway: Gateway, open_page: OpenPage) -> None:
    """With no choice stored, a dark system gets the dark theme and no `data-theme` is set."""
    watched = await open_page(f"{gateway.url}/", color_scheme="dark")
    page = watched.page
    assert await page.get_attribute("html", "data-theme") is None
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUNDS["dark"]
    assert await page.get_attribute("[data-theme-toggle]", "aria-label") == "Switch to light theme"


async def test_the_theme_toggle_switches_and_survives_a_reload(gateway: Gateway, open_page: OpenPage) -> None:
    """The toggle flips `data-theme`, and the choice is remembered across a reload."""
    watched = await open_page(f"{gateway.url}/", color_scheme="light")
    page = watched.page
    toggle = page.locator("[data-theme-toggle]")
    assert await page.get_attribute("html", "data-theme") is None
    await toggle.click()
    assert await page.get_attribute("html", "data-theme") == "dark"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUNDS["dark"]
    await page.reload(wait_until="load")
    assert await page.get_attribute("html", "data-theme") == "dark"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUNDS["dark"]
    await toggle.click()
    await page.reload(wait_until="load")
    assert await page.get_attribute("html", "data-theme") == "light"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == BACKGROUNDS["light"]
    assert watched.csp_violations == []


@pytest.mark.parametrize(("tab", "panel"), [pytest.param(tab, panel, id=tab) for tab, panel in TABS])
async def test_clicking_a_tab_shows_its_panel_and_hides_the_others(
    gateway: Gateway, open_page: OpenPage, tab: str, panel: str
) -> None:
    watched = await open_page(f"{gateway.url}/")
    page = watched.page
    await page.click(f"#{tab}")
    for other_tab, other_panel in TABS:
        is_chosen = other_tab == tab
        assert await page.get_attribute(f"#{other_tab}", "aria-selected") == str(is_chosen).lower()
        assert await page.get_attribute(f"#{other_tab}", "tabindex") == ("0" if is_chosen else "-1")
        assert await page.is_visible(f"#{other_panel}") is is_chosen
    assert await page.get_attribute(f"#{panel}", "role") == "tabpanel"
    assert await page.get_attribute(f"#{panel}", "aria-labelledby") == tab


async def test_arrow_keys_move_between_tabs_and_show_their_panels(
    gateway: Gateway, open_page: OpenPage
) -> None:
    """WAI-ARIA tabs: arrows move and select (wrapping), Home and End jump, focus follows."""
    watched = await open_page(f"{gateway.url}/")
    page = watched.page
    await page.focus("#tab-claude")
    for key, expected in (
        ("ArrowRight", "tab-chatgpt"),
        ("ArrowRight", "tab-other"),
        ("ArrowRight", "tab-claude"),
        ("ArrowLeft", "tab-other"),
        ("Home", "tab-claude"),
        ("End", "tab-other"),
    ):
        await page.keyboard.press(key)
        assert await page.evaluate("document.activeElement.id") == expected
        for tab, panel in TABS:
            assert await page.get_attribute(f"#{tab}", "aria-selected") == str(tab == expected).lower()
            assert await page.is_visible(f"#{panel}") is (tab == expected)


async def test_keyboard_focus_shows_a_visible_ring(gateway: Gateway, open_page: OpenPage) -> None:
    """WCAG 2.4.7: the element reached with Tab is outlined in the accent colour."""
    watched = await open_page(f"{gateway.url}/", color_scheme="light")
    page = watched.page
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skip-link"
    outline = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; })()"
    )
    assert outline == ["solid", "3px", "rgb(67, 56, 202)"]
    assert await page.is_visible(".skip-link") is True


async def test_a_tool_accordion_opens(gateway: Gateway, open_page: OpenPage) -> None:
    watched = await open_page(f"{gateway.url}/")
    page = watched.page
    accordion = page.locator("#tool-send-message")
    assert await accordion.get_attribute("open") is None
    assert await accordion.locator("table.params").is_visible() is False
    await accordion.locator("summary").click()
    assert await accordion.get_attribute("open") == ""
    assert await accordion.locator("table.params").is_visible() is True
    assert await accordion.locator("#request-send-message").inner_text() == (
        "{\n"
        '  "jsonrpc": "2.0",\n'
        '  "id": 1,\n'
        '  "method": "tools/call",\n'
        '  "params": {\n'
        '    "name": "send-message",\n'
        '    "arguments": {\n'
        '      "from": "+14155550100",\n'
        '      "to": "+14155550123",\n'
        '      "content": "Hello from the gateway"\n'
        "    }\n"
        "  }\n"
        "}"
    )


async def test_a_copy_button_says_copied_and_fills_the_clipboard(
    gateway: Gateway, open_page: OpenPage
) -> None:
    watched = await open_page(f"{gateway.url}/")
    page = watched.page
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gateway.url)
    button = page.locator('button[data-copy-target="url-mcp"]')
    await expect(button.locator(".copy-label")).to_have_text("Copy")
    await button.click()
    await expect(button.locator(".copy-label")).to_have_text("Copied")
    await expect(page.locator("#announcer")).to_have_text("Copied to the clipboard")
    assert await page.evaluate("navigator.clipboard.readText()") == f"{gateway.url}/mcp"


async def test_the_connection_urls_come_from_public_url(gateway: Gateway, open_page: OpenPage) -> None:
    watched = await open_page(f"{gateway.url}/")
    assert await watched.page.inner_text("#url-mcp") == f"{gateway.settings.public_url}/mcp"
    assert await watched.page.inner_text("#url-sse") == f"{gateway.settings.public_url}/sse"


async def test_sandbox_mode_shows_the_demo_key(gateway: Gateway, open_page: OpenPage) -> None:
    watched = await open_page(f"{gateway.url}/")
    page = watched.page
    assert await page.is_visible("#sandbox-notice") is True
    assert await page.inner_text("#sandbox-title") == "Sandbox mode: nothing reaches OpenPhone"
    assert await page.inner_text("#demo-key") == "sandbox-demo-key"


async def test_without_javascript_every_setup_panel_is_visible(gateway: Gateway, open_page: OpenPage) -> None:
    """Tabs degrade to stacked sections; controls that need script stay hidden."""
    watched = await open_page(f"{gateway.url}/", java_script_enabled=False)
    page = watched.page
    for _, panel in TABS:
        assert await page.is_visible(f"#{panel}") is True
        assert await page.is_visible(f"#{panel} .panel-heading") is True
        assert await page.get_attribute(f"#{panel}", "role") is None
    assert await page.is_visible("[role=tablist]") is False
    assert await page.is_visible("[data-theme-toggle]") is False
    assert await page.locator("button.copy:visible").count() == 0


async def test_every_tool_has_an_accordion_with_its_title(gateway: Gateway, open_page: OpenPage) -> None:
    """The page lists exactly the registry's tools, in `tools/list` order."""
    watched = await open_page(f"{gateway.url}/")
    accordions = watched.page.locator("details.tool")
    found = [
        (
            await accordions.nth(index).get_attribute("id"),
            await accordions.nth(index).locator(".tool-title").inner_text(),
        )
        for index in range(await accordions.count())
    ]
    assert found == [(f"tool-{tool.name}", tool.title) for tool in OPENPHONE_TOOLS]


async def test_each_tool_with_a_view_shows_its_screenshots_in_both_themes(
    gateway: Gateway, open_page: OpenPage
) -> None:
    """The accordion of every tool that declares a view shows that view's two screenshots, loaded."""
    watched = await open_page(f"{gateway.url}/")
    shown = {}
    for tool in OPENPHONE_TOOLS:
        accordion = watched.page.locator(f"#tool-{tool.name}")
        await accordion.locator("summary").click()
        images = accordion.locator(".view-shots img")
        await expect(images).to_have_count(0 if tool.view is None else 2)
        for index in range(await images.count()):
            await expect(images.nth(index)).to_have_js_property("complete", True)
        loaded = await images.evaluate_all(
            "(images) => images.map((image) => [image.alt, image.naturalWidth])"
        )
        shown[tool.name] = [alt for alt, width in loaded if width > 0]
    assert shown == {
        tool.name: [f"The {tool.view.title} view, light theme", f"The {tool.view.title} view, dark theme"]
        if tool.view
        else []
        for tool in OPENPHONE_TOOLS
    }
    assert watched.console_errors == []
    assert watched.csp_violations == []


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_text_contrast_meets_wcag_aa(gateway: Gateway, open_page: OpenPage, theme: str) -> None:
    """Body, muted, link, tab and badge text reach 4.5:1 against what is behind them (WCAG 1.4.3)."""
    watched = await open_page(f"{gateway.url}/", color_scheme=theme)
    selectors = ["body", ".lead", ".site-nav a", "#tab-chatgpt", ".badge", "#sandbox-notice p", "code"]
    pairs = await watched.page.evaluate(_COLOUR_PAIRS_JS, selectors)
    ratios = {selector: round(_contrast(colour, background), 2) for selector, colour, background in pairs}
    assert {selector: ratio >= WCAG_AA_BODY_TEXT for selector, ratio in ratios.items()} == dict.fromkeys(
        selectors, True
    ), ratios


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_a_screenshot_of_each_theme_is_saved(
    gateway: Gateway, open_page: OpenPage, screenshots: Path, theme: str
) -> None:
    watched = await open_page(f"{gateway.url}/", color_scheme=theme, viewport={"width": 1280, "height": 900})
    await watched.page.click("#tool-send-message summary")
    await watched.page.evaluate("window.scrollTo(0, 0)")
    path = screenshots / f"landing-{theme}.png"
    await watched.page.screenshot(path=path, full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
