"""What start-up leaves unloaded: modules only some paths need are imported when first used, and
models only some requests need are built when first used.

Each costs start-up time and memory on every cold start (README "Performance"), while the MCP
endpoints never touch it. The probe runs in a fresh interpreter: the command's imports, then the app
built as `serve` builds it, then the names of the loaded modules and of the models built.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import TEST_SECRET_KEY

PROBE = """
import json, sys
import gateway.cli
from gateway.app import create_app
from gateway.settings import Settings
create_app(Settings(secret_keys=(sys.argv[1],), public_url="http://127.0.0.1:8000"))
print(json.dumps(sorted(sys.modules)))
from pydantic import BaseModel
models, built = [BaseModel], []
while models:
    model = models.pop()
    models += model.__subclasses__()
    if model.__pydantic_complete__:
        built.append(f"{model.__module__}.{model.__qualname__}")
print(json.dumps(sorted(built)))
"""


@pytest.fixture(scope="module")
def probed() -> tuple[frozenset[str], frozenset[str]]:
    """The modules loaded and the models built once the app is."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, TEST_SECRET_KEY], capture_output=True, text=True, check=True, env={}
    )
    modules, built = done.stdout.splitlines()
    return frozenset(json.loads(modules)), frozenset(json.loads(built))


@pytest.fixture(scope="module")
def loaded_at_start(probed: tuple[frozenset[str], frozenset[str]]) -> frozenset[str]:
    return probed[0]


@pytest.fixture(scope="module")
def built_at_start(probed: tuple[frozenset[str], frozenset[str]]) -> frozenset[str]:
    return probed[1]


@pytest.mark.parametrize(
    "module",
    [
        pytest.param("mcp_types", id="mcp-types-whose-names-the-gateway-writes-itself"),
        pytest.param("jinja2", id="jinja2-for-the-pages"),
        pytest.param("tools.sandbox", id="the-sandbox-without-sandbox-on"),
        pytest.param("limits", id="limits-for-the-oauth-throttle"),
        pytest.param("pydantic_settings", id="pydantic-settings-which-the-settings-do-without"),
        pytest.param("secure", id="secure-whose-headers-the-edge-writes-itself"),
        pytest.param("phonenumbers", id="phonenumbers-for-the-first-number-checked"),
        pytest.param("anyio._core._synchronization", id="anyio-events-for-the-first-metadata-fetch"),
        pytest.param("landing.content", id="the-landing-pages-content-for-the-first-page"),
    ],
)
def test_start_up_does_not_load(module: str, loaded_at_start: frozenset[str]) -> None:
    assert module not in loaded_at_start


def test_the_probe_sees_what_start_up_loads(loaded_at_start: frozenset[str]) -> None:
    """The probe itself works: what every request needs is there."""
    assert {"gateway.app", "tools.catalog", "oauth.sealing", "uvicorn"} <= loaded_at_start


@pytest.mark.parametrize(
    "model",
    [
        pytest.param("oauth.registration.RegistrationRequest", id="the-registration-request"),
        pytest.param("oauth.registration.RegisteredClient", id="the-registered-client"),
        pytest.param("oauth.client_metadata.ClientMetadata", id="the-client-metadata-document"),
        pytest.param("tools.call_media.VoicemailPart", id="a-calls-voicemail-part"),
        pytest.param("tools.calls.CallSummaryResult", id="a-calls-summary-part"),
    ],
)
def test_start_up_does_not_build(model: str, built_at_start: frozenset[str]) -> None:
    assert model not in built_at_start


def test_the_probe_sees_what_start_up_builds(built_at_start: frozenset[str]) -> None:
    """The probe itself works: the models every request needs are built."""
    assert {
        "gateway.settings.Settings",
        "oauth.sealing.Claims",
        "gateway.protocol.jsonrpc.Request",
    } <= built_at_start
