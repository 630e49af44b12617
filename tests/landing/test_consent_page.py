"""The consent page in a real browser: the landing page's look, and a CSP that lets the sign-in finish.

Browsers apply `form-action` to the redirect that follows a form post, so the consent page's policy
must name the client's redirect origin; these tests prove the whole hop in Chromium, to a local
catcher standing in for the client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlencode, urljoin

import httpx
import pytest
from playwright.async_api import expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from oauth.consent import ConsentPages, FormPage
from oauth.registration import RegisteredClient
from tests.browser import OpenPage, WatchedPage
from tests.conftest import serve
from tests.landing.conftest import Gateway
from tests.oauth.flow import Pkce, authorize_params, register
from tools.sandbox import SANDBOX_API_KEY
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

CALLBACK_PATH: Final = "/callback"
# The README shows the consent page's choices with this picture.
README_SCREENSHOT: Final = Path(__file__).resolve().parents[2] / "landing" / "static" / "consent-choices.png"
_NONCE: Final = re.compile(r'<script nonce="([^"]+)">')
_STYLESHEET: Final = re.compile(r'<link rel="stylesheet" href="([^"]*)">')
# A data: favicon, so the browser asks the catcher for nothing but the callback.
_CAUGHT_PAGE: Final = (
    '<!doctype html><html><head><link rel="icon" href="data:,"><title>Caught</title></head>'
    "<body>Back at the client.</body></html>"
)


@dataclass
class Catcher:
    """A stand-in OAuth client: records the query of every request to its redirect URI."""

    url: str
    queries: list[dict[str, str]] = field(default_factory=list)

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}{CALLBACK_PATH}"


@pytest.fixture(scope="module")
def catcher() -> Iterator[Catcher]:
    queries: list[dict[str, str]] = []

    async def callback(request: Request) -> HTMLResponse:
        queries.append(dict(request.query_params))
        return HTMLResponse(_CAUGHT_PAGE)

    for url in serve(Starlette(routes=[Route(CALLBACK_PATH, callback)])):
        yield Catcher(url, queries)


async def _authorize_url(gateway: Gateway, catcher: Catcher) -> tuple[str, dict[str, str]]:
    """A registered client's authorization URL (PKCE S256), and its parameters."""
    async with httpx.AsyncClient(base_url=gateway.url) as http:
        client = await register(http, redirect_uris=[catcher.redirect_uri], client_name="Catcher")
    params = authorize_params(client["client_id"], Pkce.new(), redirect_uri=catcher.redirect_uri)
    return f"{gateway.url}/authorize?{urlencode(params)}", params


async def _open_consent(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage, **options: object
) -> WatchedPage:
    url, _ = await _authorize_url(gateway, catcher)
    return await open_page(url, **options)


async def test_allowing_with_the_sandbox_key_lands_on_the_client_redirect_uri(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    """The consent form posts, the server redirects, and `form-action` lets the browser follow."""
    url, params = await _authorize_url(gateway, catcher)
    watched = await open_page(url)
    page = watched.page
    catcher.queries.clear()
    await page.fill("#api_key", SANDBOX_API_KEY)
    await page.click('button[name="action"][value="allow"]')
    await expect(page.locator("#choices")).to_be_visible()
    await page.click('button[name="action"][value="allow"]')
    await page.wait_for_url(f"{catcher.redirect_uri}?*")
    assert len(catcher.queries) == 1
    caught = catcher.queries[0]
    assert sorted(caught) == ["code", "iss", "state"]
    assert caught["state"] == params["state"]
    assert caught["iss"] == gateway.settings.public_url
    assert caught["code"] != ""
    assert watched.csp_violations == []
    assert watched.console_errors == []


async def _choices_page(gateway: Gateway, catcher: Catcher, open_page: OpenPage) -> WatchedPage:
    """The second step, reached in the browser with the sandbox key."""
    watched = await _open_consent(gateway, catcher, open_page)
    await watched.page.fill("#api_key", SANDBOX_API_KEY)
    await watched.page.click('button[name="action"][value="allow"]')
    await expect(watched.page.locator("#choices")).to_be_visible()
    return watched


async def test_the_choices_step_lists_the_workspaces_numbers_read_with_the_key(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    watched = await _choices_page(gateway, catcher, open_page)
    inboxes = watched.page.locator('input[name="inbox"]')
    assert [await box.get_attribute("value") for box in await inboxes.all()] == [
        seed.MAIN_LINE_ID,
        seed.SUPPORT_LINE_ID,
    ]
    assert await watched.page.is_checked('input[name="send"][value="confirm"]')
    assert not await watched.page.is_checked('input[name="new_numbers"]')
    assert watched.csp_violations == []


async def test_the_key_is_carried_only_sealed_between_the_steps(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    """Issue 23: never a plain hidden field, never the URL: only the encrypted request token."""
    watched = await _choices_page(gateway, catcher, open_page)
    html = await watched.page.content()
    assert SANDBOX_API_KEY not in html
    assert SANDBOX_API_KEY not in watched.page.url
    hidden = watched.page.locator('#choices input[type="hidden"]')
    assert sorted([await field.get_attribute("name") or "" for field in await hidden.all()]) == [
        "csrf",
        "request",
    ]


async def test_choosing_no_inbox_is_refused_on_the_page(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    watched = await _choices_page(gateway, catcher, open_page)
    catcher.queries.clear()
    await watched.page.check('input[name="inboxes"][value="chosen"]')
    await watched.page.click('button[name="action"][value="allow"]')
    await expect(watched.page.locator("p.error[role=alert]")).to_have_text(
        "Choose at least one inbox, or allow every inbox."
    )
    assert catcher.queries == []


async def test_the_chosen_inboxes_and_allowance_reach_the_client_as_a_code(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    watched = await _choices_page(gateway, catcher, open_page)
    page = watched.page
    catcher.queries.clear()
    await page.check('input[name="inboxes"][value="chosen"]')
    await page.check(f'input[name="inbox"][value="{seed.MAIN_LINE_ID}"]')
    await page.check('input[name="send"][value="allowance"]')
    await page.fill("#daily_limit", "5")
    await page.click('button[name="action"][value="allow"]')
    await page.wait_for_url(f"{catcher.redirect_uri}?*")
    assert [sorted(query) for query in catcher.queries] == [["code", "iss", "state"]]
    assert watched.csp_violations == []


async def test_a_screenshot_of_the_choices_is_saved_for_the_readme(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    watched = await _choices_page(gateway, catcher, open_page)
    page = watched.page
    await page.check('input[name="inboxes"][value="chosen"]')
    await page.check(f'input[name="inbox"][value="{seed.MAIN_LINE_ID}"]')
    await page.locator(".card").screenshot(path=str(README_SCREENSHOT))
    assert README_SCREENSHOT.stat().st_size > 0


async def test_denying_lands_on_the_client_redirect_uri_with_access_denied(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    url, params = await _authorize_url(gateway, catcher)
    watched = await open_page(url)
    catcher.queries.clear()
    await watched.page.click('button[name="action"][value="deny"]')
    await watched.page.wait_for_url(f"{catcher.redirect_uri}?*")
    assert [(query["error"], query["state"], query["iss"]) for query in catcher.queries] == [
        ("access_denied", params["state"], gateway.settings.public_url)
    ]
    assert watched.csp_violations == []


async def test_a_rejected_key_is_shown_inline_on_the_page(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    watched = await _open_consent(gateway, catcher, open_page)
    page = watched.page
    await page.fill("#api_key", "op-not-the-demo-key")
    await page.click('button[name="action"][value="allow"]')
    await expect(page.locator("p.error[role=alert]")).to_have_text(
        "OpenPhone rejected this API key. Check it and paste it again."
    )
    assert await page.get_attribute("#api_key", "aria-invalid") == "true"
    assert await page.input_value("#api_key") == ""
    assert watched.csp_violations == []


async def test_the_consent_page_shares_the_landing_page_look(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage
) -> None:
    """Same stylesheet, header and theme: a theme chosen on the landing page carries over."""
    watched = await open_page(f"{gateway.url}/", color_scheme="light")
    page = watched.page
    await page.click("[data-theme-toggle]")
    url, _ = await _authorize_url(gateway, catcher)
    await page.goto(url, wait_until="load")
    assert await page.get_attribute("html", "data-theme") == "dark"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(14, 17, 22)"
    assert await page.inner_text(".site-header .brand") == "OpenPhone MCP Gateway"
    assert await page.is_visible("[data-theme-toggle]") is True
    assert watched.csp_violations == []
    assert watched.console_errors == []


async def test_the_consent_csp_allows_its_style_script_and_the_redirect_origin(
    gateway: Gateway, catcher: Catcher
) -> None:
    url, _ = await _authorize_url(gateway, catcher)
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    match = _NONCE.search(response.text)
    assert match is not None
    nonce = match.group(1)
    assert response.headers["content-security-policy"] == (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        f"img-src 'self' data:; form-action 'self' {catcher.url}; frame-ancestors 'none'; base-uri 'none'"
    )
    assert '<link rel="stylesheet" href="/static/site.css">' in response.text


async def test_an_error_page_uses_the_shared_stylesheet(gateway: Gateway, open_page: OpenPage) -> None:
    """A request the server cannot trust gets a styled page, not a redirect, with no CSP violation."""
    watched = await open_page(f"{gateway.url}/authorize?client_id=unknown", expect_status=400)
    page = watched.page
    assert await page.inner_text("h1") == "Cannot connect this application"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(246, 247, 249)"
    assert watched.csp_violations == []


def test_under_a_public_url_path_the_consent_and_error_pages_find_the_stylesheet() -> None:
    """Both pages answer `{path}/authorize`; their stylesheet resolves to `{path}/static/site.css`."""
    page_url = "https://gw.example.test/openphone/authorize?client_id=x"
    pages = ConsentPages("/openphone")
    form = FormPage(
        action="https://gw.example.test/openphone/authorize",
        client=RegisteredClient(client_id="x", redirect_uris=("https://app.example.test/cb",)),
        redirect_uri="https://app.example.test/cb",
        request_token="r",
        csrf="c",
    )
    consent = pages.consent(form, ("messages:read",))
    error = pages.error("Nothing was shared.")
    resolved = [
        urljoin(page_url, href)
        for page in (consent, error)
        for href in _STYLESHEET.findall(bytes(page.body).decode())
    ]
    assert resolved == ["https://gw.example.test/openphone/static/site.css"] * 2


@pytest.mark.parametrize("theme", ["light", "dark"])
async def test_a_screenshot_of_each_theme_is_saved(
    gateway: Gateway, catcher: Catcher, open_page: OpenPage, screenshots: Path, theme: str
) -> None:
    watched = await _open_consent(
        gateway, catcher, open_page, color_scheme=theme, viewport={"width": 1024, "height": 900}
    )
    path = screenshots / f"consent-{theme}.png"
    await watched.page.screenshot(path=path, full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
