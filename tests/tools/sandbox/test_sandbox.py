"""The sandbox as a whole, over real HTTP: auth, unknown routes, phone numbers, custom fields, determinism."""

from __future__ import annotations

import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tests.tools.sandbox.expect import error_body
from tools.sandbox import SANDBOX_API_KEY, SandboxState, create_sandbox_app
from tools.sandbox.data import CUSTOM_FIELDS, MAIN_LINE_ID, PHONE_NUMBERS, SUPPORT_LINE_ID

pytestmark = pytest.mark.anyio

LIST_MESSAGES = {"phoneNumberId": MAIN_LINE_ID, "participants": "+14155550123", "maxResults": "10"}


class TestAuth:
    @pytest.mark.parametrize(
        ("method", "path", "code"),
        [
            pytest.param("POST", "/v1/messages", "0200401", id="send-message"),
            pytest.param("GET", "/v1/messages", "0200401", id="list-messages"),
            pytest.param("GET", "/v1/messages/ACx", "0200401", id="get-message"),
            pytest.param("GET", "/v1/calls", "0100401", id="list-calls"),
            pytest.param("GET", "/v1/phone-numbers", "0400401", id="phone-numbers"),
            pytest.param("GET", "/v1/call-summaries/ACx", "0500401", id="summary"),
            pytest.param("GET", "/v1/call-transcripts/ACx", "0600401", id="transcript"),
            pytest.param("GET", "/v1/contact-custom-fields", "0700401", id="custom-fields"),
            pytest.param("POST", "/v1/contacts", "0800401", id="create-contact"),
            pytest.param("GET", "/v1/contacts", "0800401", id="list-contacts"),
            pytest.param("DELETE", "/v1/contacts/x", "0800401", id="delete-contact"),
            pytest.param("GET", "/v1/call-recordings/ACx", "0900401", id="recordings"),
            pytest.param("GET", "/v1/conversations", "1000401", id="conversations"),
            pytest.param("GET", "/v1/calls/ACx", "0100401", id="get-call"),
            pytest.param("GET", "/v1/call-voicemails/ACx", "1200401", id="voicemail"),
            pytest.param("GET", "/v1/phone-numbers/PNx", "0400401", id="get-phone-number"),
            pytest.param("GET", "/v1/users", "1100401", id="list-users"),
            pytest.param("GET", "/v1/users/USx", "1100401", id="get-user"),
        ],
    )
    async def test_missing_key_gets_the_operations_documented_401(
        self, sandbox: Sandbox, method: str, path: str, code: str
    ) -> None:
        """Each operation answers 401 with its own const code (openapi-v1.json), before any validation."""
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            response = await http.request(method, path)
        assert error_body(response, 401) == {
            "message": "Missing authorization header",
            "code": code,
            "status": 401,
            "docs": "https://openphone.com/docs",
            "title": "Unauthorized",
        }

    @pytest.mark.parametrize(
        "key",
        [
            pytest.param("Bearer sandbox-demo-key", id="bearer-prefix"),
            pytest.param("sandbox-demo-key-2", id="longer"),
            pytest.param("SANDBOX-DEMO-KEY", id="other-case"),
            pytest.param("op-live-0123456789abcdef", id="another-key"),
        ],
    )
    async def test_any_other_key_is_401_and_never_echoed(self, sandbox: Sandbox, key: str) -> None:
        """Notes §3.1: the raw key only, no `Bearer`; the presented key never comes back."""
        async with httpx.AsyncClient(base_url=sandbox.url, headers={"Authorization": key}) as http:
            response = await http.get("/v1/messages", params={"maxResults": "1000"})
        assert error_body(response, 401)["message"] == "Unauthorized"
        assert key not in response.text

    async def test_the_sandbox_key_is_accepted(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/phone-numbers")
        assert response.status_code == 200


class TestUnknownRoutes:
    async def test_unknown_path_gets_express_404_html(self, client: httpx.AsyncClient) -> None:
        """Notes §3.4: an unknown route answers Express's HTML page, not JSON."""
        response = await client.get("/v1/tasks")
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["content-security-policy"] == "default-src 'none'"
        assert response.text == (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
            "</head>\n<body>\n<pre>Cannot GET /v1/tasks</pre>\n</body>\n</html>\n"
        )

    async def test_unknown_method_on_a_known_path_gets_404_html(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/v1/messages")
        assert response.status_code == 404
        assert "<pre>Cannot PUT /v1/messages</pre>" in response.text

    async def test_unknown_route_needs_no_key(self, sandbox: Sandbox) -> None:
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            response = await http.get("/v2/messages")
        assert response.status_code == 404
        assert response.headers["content-type"] == "text/html; charset=utf-8"

    async def test_the_path_is_escaped_in_the_page(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/<script>")
        assert "<pre>Cannot GET /v1/&lt;script&gt;</pre>" in response.text

    async def test_unknown_routes_are_recorded_and_not_checked(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        """SpecCheck has no operation for them, so they are recorded but not counted."""
        await client.get("/v1/webhooks/unknown/deeper")
        assert sandbox.state.requests == [("GET", "/v1/webhooks/unknown/deeper")]
        assert len(sandbox.check.exchanges) == 1
        assert sandbox.check.checked == 0


class TestPhoneNumbers:
    async def test_lists_both_inboxes_in_full(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/phone-numbers")
        assert response.json() == {"data": list(PHONE_NUMBERS)}
        assert [(pn["id"], pn["number"], pn["name"]) for pn in response.json()["data"]] == [
            ("PNsandboxMain", "+14155550100", "Main line"),
            ("PNsandboxSupport", "+14155550199", "Support"),
        ]

    @pytest.mark.parametrize(
        ("user_id", "expected"),
        [
            pytest.param("USsandboxOwner", [MAIN_LINE_ID, SUPPORT_LINE_ID], id="owner"),
            pytest.param("USsandboxAgent", [MAIN_LINE_ID], id="agent"),
            pytest.param("USnobody", [], id="unknown"),
        ],
    )
    async def test_user_filter(self, client: httpx.AsyncClient, user_id: str, expected: list[str]) -> None:
        response = await client.get("/v1/phone-numbers", params={"userId": user_id})
        assert [pn["id"] for pn in response.json()["data"]] == expected

    async def test_user_id_must_match_the_spec_pattern(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/phone-numbers", params={"userId": "sandboxOwner"})
        assert error_body(response, 400) == {
            "message": "Invalid request: userId: Expected string to match '^US(.*)$'",
            "code": "0400400",
            "status": 400,
            "docs": "https://openphone.com/docs",
            "title": "Bad Request",
            "errors": [
                {
                    "path": "/userId",
                    "message": "Expected string to match '^US(.*)$'",
                    "value": "sandboxOwner",
                    "schema": {"type": "string"},
                }
            ],
        }


async def test_custom_field_definitions(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/contact-custom-fields")
    assert response.json() == {"data": list(CUSTOM_FIELDS)}
    assert {field["type"] for field in response.json()["data"]} >= {"boolean", "number", "multi-select"}


async def test_every_request_is_recorded_in_order(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.get("/v1/phone-numbers")
    await client.get("/v1/messages", params=LIST_MESSAGES)
    await client.delete("/v1/contacts/missing")
    assert sandbox.state.requests == [
        ("GET", "/v1/phone-numbers"),
        ("GET", "/v1/messages"),
        ("DELETE", "/v1/contacts/missing"),
    ]


async def test_two_fresh_sandboxes_answer_the_same_requests_identically() -> None:
    """Seeds, clock, ids and traces are counters, never random: same requests, same bytes."""
    transcripts = []
    for _ in range(2):
        app = create_sandbox_app()
        transport = httpx.ASGITransport(app)
        headers = {"Authorization": SANDBOX_API_KEY}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.test", headers=headers
        ) as http:
            sent = await http.post(
                "/v1/messages", json={"from": MAIN_LINE_ID, "to": ["+14155550123"], "content": "Hello"}
            )
            created = await http.post("/v1/contacts", json={"defaultFields": {"firstName": "Ada"}})
            refused = await http.get("/v1/messages", params={"maxResults": "0"})
            listed = await http.get("/v1/messages", params=LIST_MESSAGES)
        transcripts.append([sent.content, created.content, refused.content, listed.content])
    assert transcripts[0] == transcripts[1]


def test_create_sandbox_app_without_state_makes_a_fresh_one() -> None:
    app = create_sandbox_app()
    assert isinstance(app.state.sandbox, SandboxState)
    assert app.state.sandbox.sent_messages == []


def test_faults_leave_the_seed_alone() -> None:
    """Knobs live apart from the workspace: setting them changes no seeded record."""
    state, fresh = SandboxState(), SandboxState()
    state.faults.latency = 1.0
    state.faults.rate_limit = 1
    state.faults.failing_recipients["+14155550123"] = 403
    assert (state.contacts, state.messages, state.calls) == (fresh.contacts, fresh.messages, fresh.calls)
