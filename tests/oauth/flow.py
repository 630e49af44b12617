"""The steps of an OAuth authorization-code flow, scripted over real HTTP against a live gateway."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tools.sandbox import SANDBOX_API_KEY
from tools.scopes import OPTIONAL_SCOPES

REDIRECT_URI = "http://127.0.0.1:9/callback"
# The choices of a sign-in that sends without asking, to anyone, up to 100 recipients a day.
SEND_FREELY = [("inboxes", "all"), ("send", "allowance"), ("daily_limit", "100"), ("new_numbers", "yes")]
_HIDDEN = re.compile(r'<input type="hidden" name="(request|csrf)" value="([^"]*)">')
_ACTION = re.compile(r'<form method="post" action="([^"]*)">')


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode()).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode())


async def register(web: httpx.AsyncClient, **metadata: Any) -> dict[str, Any]:
    body = {"redirect_uris": [REDIRECT_URI], "client_name": "Flow test", "token_endpoint_auth_method": "none"}
    body.update(metadata)
    response = await web.post("/register", json=body)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def authorize_params(client_id: str, pkce: Pkce, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": "st-" + secrets.token_hex(4),
    }
    params.update(overrides)
    return {name: value for name, value in params.items() if value is not None}


@dataclass
class ConsentForm:
    action: str
    request: str
    csrf: str


async def open_consent(web: httpx.AsyncClient, params: dict[str, str]) -> ConsentForm:
    page = await web.get("/authorize", params=params)
    assert page.status_code == 200, page.text
    hidden = dict(_HIDDEN.findall(page.text))
    action = _ACTION.search(page.text)
    assert action is not None
    return ConsentForm(action.group(1), hidden["request"], hidden["csrf"])


async def submit_key(
    web: httpx.AsyncClient,
    form: ConsentForm,
    *,
    api_key: str = SANDBOX_API_KEY,
    action: str = "allow",
    scopes: tuple[str, ...] | None = None,
    csrf: str | None = None,
) -> httpx.Response:
    """The first step: the scopes and the key; a good key answers the choices page."""
    fields: dict[str, str | list[str]] = {
        "request": form.request,
        "csrf": form.csrf if csrf is None else csrf,
        "api_key": api_key,
        "scope": list(scopes if scopes is not None else sorted(OPTIONAL_SCOPES)),
        "action": action,
    }
    return await web.post(urlsplit(form.action).path, data=fields)


def choices_form(page: httpx.Response) -> ConsentForm | None:
    """The form of the choices step, when `page` is that step."""
    if page.status_code not in (200, 400) or 'id="choices"' not in page.text:
        return None
    hidden = dict(_HIDDEN.findall(page.text))
    action = _ACTION.search(page.text)
    assert action is not None
    return ConsentForm(action.group(1), hidden["request"], hidden["csrf"])


async def submit_choices(
    web: httpx.AsyncClient, form: ConsentForm, choices: list[tuple[str, str]] | None = None
) -> httpx.Response:
    """The second step: `choices` as the form fields (the page's defaults when None)."""
    fields = [("request", form.request), ("csrf", form.csrf), ("action", "allow")]
    fields += choices if choices is not None else [("inboxes", "all"), ("send", "confirm")]
    return await web.post(
        urlsplit(form.action).path,
        content=urlencode(fields),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


async def submit(
    web: httpx.AsyncClient,
    form: ConsentForm,
    *,
    api_key: str = SANDBOX_API_KEY,
    action: str = "allow",
    scopes: tuple[str, ...] | None = None,
    csrf: str | None = None,
    choices: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    """Both steps, the second with `choices` (the defaults when None); a refused first step as it is."""
    first = await submit_key(web, form, api_key=api_key, action=action, scopes=scopes, csrf=csrf)
    step = choices_form(first)
    if step is None or first.status_code != 200:
        return first
    return await submit_choices(web, step, choices)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def code_for(web: httpx.AsyncClient, client_id: str, pkce: Pkce, **overrides: str | None) -> str:
    form = await open_consent(web, authorize_params(client_id, pkce, **overrides))
    return redirect_query(await submit(web, form))["code"]


async def exchange(web: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await web.post("/token", data=form)


async def tokens_for(
    web: httpx.AsyncClient,
    ticked: tuple[str, ...] | None = None,
    choices: list[tuple[str, str]] | None = None,
    client_name: str = "Flow test",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A registered public client and the token response of a full consent (`ticked`: write scopes
    kept; `choices`: the second step's fields, the page's defaults when None)."""
    client = await register(web, client_name=client_name)
    pkce = Pkce.new()
    form = await open_consent(web, authorize_params(client["client_id"], pkce))
    code = redirect_query(await submit(web, form, scopes=ticked, choices=choices))["code"]
    response = await exchange(
        web,
        grant_type="authorization_code",
        code=code,
        code_verifier=pkce.verifier,
        client_id=client["client_id"],
        redirect_uri=REDIRECT_URI,
    )
    assert response.status_code == 200, response.text
    return client, response.json()
