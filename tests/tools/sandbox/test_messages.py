"""Messages over real HTTP: send (notes §2.1), list with pagination (§2.2, §3.3), get (§2.3)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tests.tools.sandbox.expect import broken_rules, error_body
from tools.sandbox.data import (
    ALPHA_MESSAGES,
    CONVERSATION_ALPHA_ID,
    JORDAN_NUMBER,
    MAIN_LINE_ID,
    MAIN_LINE_NUMBER,
    SUPPORT_LINE_ID,
)

pytestmark = pytest.mark.anyio

A2P = "0206400"  # the spec's only 400 for message operations: "A2P Registration Not Approved"
SEND = {"from": MAIN_LINE_ID, "to": [JORDAN_NUMBER], "content": "On our way!"}
THREAD = {"phoneNumberId": MAIN_LINE_ID, "participants": JORDAN_NUMBER, "maxResults": "10"}


class TestSend:
    async def test_send_is_accepted_as_queued(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        """202 with the Message shape; the request field `content` comes back as `text` (notes §2.1)."""
        response = await client.post("/v1/messages", json=SEND)
        assert response.status_code == 202
        assert response.json() == {
            "data": {
                "id": "ACsandbox000001",
                "to": [JORDAN_NUMBER],
                "from": MAIN_LINE_NUMBER,
                "text": "On our way!",
                "phoneNumberId": MAIN_LINE_ID,
                "direction": "outgoing",
                "userId": "USsandboxOwner",
                "status": "queued",
                "createdAt": "2026-11-01T12:00:00.000Z",
                "updatedAt": "2026-11-01T12:00:00.000Z",
            }
        }
        assert sandbox.state.sent_messages == [response.json()["data"]]
        assert sandbox.state.requests.count(("POST", "/v1/messages")) == 1

    async def test_from_may_be_the_e164_number(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        response = await client.post("/v1/messages", json={**SEND, "from": MAIN_LINE_NUMBER})
        assert response.status_code == 202
        assert sandbox.state.sent_messages[0]["phoneNumberId"] == MAIN_LINE_ID

    async def test_user_id_picks_the_sender(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/messages", json={**SEND, "userId": "USsandboxAgent"})
        assert response.json()["data"]["userId"] == "USsandboxAgent"

    async def test_sent_message_tops_its_thread_and_conversation(self, client: httpx.AsyncClient) -> None:
        sent = (await client.post("/v1/messages", json=SEND)).json()["data"]
        thread = (await client.get("/v1/messages", params=THREAD)).json()
        conversations = (await client.get("/v1/conversations", params={"maxResults": "1"})).json()
        assert thread["data"][0] == sent
        assert thread["totalItems"] == 26
        assert conversations["data"][0]["id"] == CONVERSATION_ALPHA_ID
        assert conversations["data"][0]["lastActivityId"] == sent["id"]

    async def test_send_to_a_new_number_opens_a_conversation(self, client: httpx.AsyncClient) -> None:
        await client.post("/v1/messages", json={**SEND, "to": ["+13125550170"]})
        listed = (await client.get("/v1/conversations", params={"maxResults": "1"})).json()["data"][0]
        assert listed["participants"] == ["+13125550170"]
        assert listed["id"] == "CNsandbox000002"

    async def test_set_inbox_status_done_makes_the_conversation_inactive(
        self, client: httpx.AsyncClient
    ) -> None:
        await client.post("/v1/messages", json={**SEND, "setInboxStatus": "done"})
        active = await client.get("/v1/conversations", params={"maxResults": "10", "excludeInactive": "true"})
        assert CONVERSATION_ALPHA_ID not in [c["id"] for c in active.json()["data"]]

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            pytest.param({"to": [JORDAN_NUMBER, "+12125550147"]}, [("/to", "array")], id="two-recipients"),
            pytest.param({"to": []}, [("/to", "array")], id="no-recipient"),
            pytest.param({"to": "+14155550123"}, [("/to", "array")], id="to-not-an-array"),
            pytest.param({"to": ["4155550123"]}, [("/to/0", "string")], id="to-not-e164"),
            pytest.param({"to": ["+1415555012٣"]}, [("/to/0", "string")], id="to-non-ascii-digit"),
            pytest.param({"content": ""}, [("/content", "string")], id="empty-content"),
            pytest.param({"content": " \n\t "}, [("/content", "string")], id="whitespace-content"),
            pytest.param({"content": "x" * 1601}, [("/content", "string")], id="content-too-long"),
            pytest.param({"content": 5}, [("/content", "string")], id="content-not-a-string"),
            pytest.param({"from": "main line"}, [("/from", "string")], id="from-neither-pn-nor-e164"),
            pytest.param({"userId": "owner"}, [("/userId", "string")], id="user-id-pattern"),
            pytest.param({"userId": None}, [("/userId", "string")], id="user-id-null"),
            pytest.param({"setInboxStatus": "open"}, [("/setInboxStatus", "string")], id="inbox-status"),
            pytest.param({"media": ["https://x.test/a.png"]}, [("/media", "object")], id="unknown-key"),
        ],
    )
    async def test_invalid_send_is_400_and_records_nothing(
        self,
        client: httpx.AsyncClient,
        sandbox: Sandbox,
        change: dict[str, Any],
        expected: list[tuple[str, str]],
    ) -> None:
        response = await client.post("/v1/messages", json={**SEND, **change})
        assert broken_rules(response, A2P) == expected
        assert sandbox.state.sent_messages == []

    async def test_the_400_has_the_documented_envelope(self, client: httpx.AsyncClient) -> None:
        """The spec's const title and description for message 400s, whatever the broken rule."""
        body = error_body(await client.post("/v1/messages", json={**SEND, "to": []}), 400)
        assert (body["code"], body["title"], body["description"]) == (
            A2P,
            "A2P Registration Not Approved",
            "A2P Registration Not Approved",
        )

    async def test_missing_fields_are_each_reported(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/messages", json={})
        assert broken_rules(response, A2P) == [("/content", "object"), ("/from", "object"), ("/to", "object")]

    async def test_content_is_never_repeated_in_errors(self, client: httpx.AsyncClient) -> None:
        """A message body is private: its rule is reported without its value."""
        content = "secret-" + "x" * 1600
        response = await client.post("/v1/messages", json={**SEND, "content": content})
        assert "value" not in error_body(response, 400)["errors"][0]
        assert "secret-" not in response.text

    @pytest.mark.parametrize(
        ("content", "headers"),
        [
            pytest.param(b'{"from": "PNsandboxMain",', {"content-type": "application/json"}, id="malformed"),
            pytest.param(b'["PNsandboxMain"]', {"content-type": "application/json"}, id="array"),
            pytest.param(b"", {"content-type": "application/json"}, id="empty"),
            pytest.param(b'{"content": "hi"}', {"content-type": "text/plain"}, id="not-json-content-type"),
            pytest.param(b'{"content": "hi"}', {}, id="no-content-type"),
        ],
    )
    async def test_a_body_that_is_not_a_json_object_is_400(
        self, client: httpx.AsyncClient, content: bytes, headers: dict[str, str]
    ) -> None:
        response = await client.post("/v1/messages", content=content, headers=headers)
        assert broken_rules(response, A2P) == [("", "object")]

    async def test_unknown_pn_id_is_404(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        body = error_body(await client.post("/v1/messages", json={**SEND, "from": "PNelsewhere"}), 404)
        assert (body["code"], body["message"]) == ("0200404", "Phone number not found")
        assert sandbox.state.sent_messages == []

    async def test_a_number_outside_the_workspace_is_403(self, client: httpx.AsyncClient) -> None:
        """Notes §4.4: `from` must be one of the workspace's numbers."""
        body = error_body(await client.post("/v1/messages", json={**SEND, "from": "+12025550111"}), 403)
        assert (body["code"], body["title"], body["description"]) == (
            "0202403",
            "Not Phone Number User",
            "Not Phone Number User",
        )

    async def test_a_user_not_on_the_number_is_403(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/messages", json={**SEND, "from": SUPPORT_LINE_ID, "userId": "USsandboxAgent"}
        )
        assert error_body(response, 403)["message"] == "The user is not a user of this phone number"


class TestList:
    async def test_first_page_is_the_newest_ten(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/v1/messages", params=THREAD)).json()
        assert [m["id"] for m in page["data"]] == [f"ACsandboxMsgAlpha{n:02d}" for n in range(25, 15, -1)]
        assert page["totalItems"] == 25
        assert isinstance(page["nextPageToken"], str)

    async def test_page_tokens_walk_the_whole_thread(self, client: httpx.AsyncClient) -> None:
        """Notes §3.3: an opaque token per page, and `nextPageToken: null` on the last one."""
        pages, token = [], None
        while True:
            params = THREAD if token is None else {**THREAD, "pageToken": token}
            page = (await client.get("/v1/messages", params=params)).json()
            pages.append([m["id"] for m in page["data"]])
            token = page["nextPageToken"]
            if token is None:
                break
        assert [len(page) for page in pages] == [10, 10, 5]
        assert [message_id for page in pages for message_id in page] == [
            m["id"] for m in reversed(ALPHA_MESSAGES)
        ]

    async def test_both_directions_are_listed(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/v1/messages", params={**THREAD, "maxResults": "2"})).json()
        assert [m["direction"] for m in page["data"]] == ["incoming", "outgoing"]

    async def test_created_window(self, client: httpx.AsyncClient) -> None:
        params = {
            **THREAD,
            "createdAfter": "2026-10-20T19:45:00Z",
            "createdBefore": "2026-10-20T20:45:00.000Z",
        }
        page = (await client.get("/v1/messages", params=params)).json()
        assert [m["id"] for m in page["data"]] == ["ACsandboxMsgAlpha24", "ACsandboxMsgAlpha23"]

    async def test_deprecated_since_behaves_as_created_before(self, client: httpx.AsyncClient) -> None:
        """Notes §2.2: `since` "currently behaves as createdBefore"."""
        page = (
            await client.get("/v1/messages", params={**THREAD, "since": "2026-10-20T10:00:00+00:00"})
        ).json()
        assert [m["id"] for m in page["data"]] == ["ACsandboxMsgAlpha02", "ACsandboxMsgAlpha01"]

    async def test_user_filter_keeps_what_that_user_sent(self, client: httpx.AsyncClient) -> None:
        sent = (await client.post("/v1/messages", json={**SEND, "userId": "USsandboxAgent"})).json()["data"]
        page = (await client.get("/v1/messages", params={**THREAD, "userId": "USsandboxAgent"})).json()
        assert page["data"] == [sent]

    async def test_bracket_arrays_are_accepted_but_flagged_by_the_spec(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        """Notes §3.7: the sandbox reads `participants[]=` too; the spec's encoding is `participants=`."""
        bracketed = {**THREAD, "participants[]": THREAD["participants"]}
        del bracketed["participants"]
        plain = (await client.get("/v1/messages", params=THREAD)).json()
        assert (await client.get("/v1/messages", params=bracketed)).json() == plain
        assert sandbox.check.request_violations == [
            "GET /v1/messages?phoneNumberId=PNsandboxMain&maxResults=10&participants%5B%5D=%2B14155550123"
            " -> 200: request MissingRequiredParameter: Missing required query parameter: participants"
        ]
        sandbox.check.request_violations.clear()

    async def test_other_participants_have_no_messages(self, client: httpx.AsyncClient) -> None:
        params = {**THREAD, "phoneNumberId": SUPPORT_LINE_ID}
        assert (await client.get("/v1/messages", params=params)).json() == {
            "data": [],
            "totalItems": 0,
            "nextPageToken": None,
        }

    async def test_unknown_phone_number_id_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/messages", params={**THREAD, "phoneNumberId": "PNelsewhere"})
        assert error_body(response, 404)["message"] == "Phone number not found"

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            pytest.param({"phoneNumberId": None}, [("/phoneNumberId", "string")], id="no-phone-number-id"),
            pytest.param(
                {"phoneNumberId": MAIN_LINE_NUMBER}, [("/phoneNumberId", "string")], id="e164-not-pn"
            ),
            pytest.param({"participants": None}, [("/participants", "array")], id="no-participants"),
            pytest.param({"participants": "4155550123"}, [("/participants/0", "string")], id="not-e164"),
            pytest.param({"maxResults": None}, [("/maxResults", "integer")], id="no-max-results"),
            pytest.param({"maxResults": "0"}, [("/maxResults", "integer")], id="max-results-0"),
            pytest.param({"maxResults": "101"}, [("/maxResults", "integer")], id="max-results-101"),
            pytest.param({"maxResults": "ten"}, [("/maxResults", "integer")], id="max-results-text"),
            pytest.param({"maxResults": ["10", "20"]}, [("/maxResults", "integer")], id="max-results-twice"),
            pytest.param({"pageToken": "not a token"}, [("/pageToken", "string")], id="garbage-token"),
            pytest.param({"pageToken": "Y2FsbHM6MTA"}, [("/pageToken", "string")], id="another-lists-token"),
            pytest.param({"createdAfter": "yesterday"}, [("/createdAfter", "string")], id="bad-date"),
            pytest.param({"createdBefore": "2026-10-20"}, [("/createdBefore", "string")], id="date-only"),
            pytest.param({"userId": "sam"}, [("/userId", "string")], id="user-id-pattern"),
        ],
    )
    async def test_invalid_query_is_400(
        self, client: httpx.AsyncClient, change: dict[str, Any], expected: list[tuple[str, str]]
    ) -> None:
        params = {key: value for key, value in {**THREAD, **change}.items() if value is not None}
        assert broken_rules(await client.get("/v1/messages", params=params), A2P) == expected

    async def test_every_broken_rule_is_reported_at_once(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/messages"), 400)
        assert body["message"] == (
            "Invalid request: phoneNumberId: Expected required property; "
            "participants: Expected required property; maxResults: Expected required property"
        )
        assert [item["path"] for item in body["errors"]] == ["/phoneNumberId", "/participants", "/maxResults"]


class TestGet:
    async def test_get_a_seeded_message(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/messages/ACsandboxMsgAlpha01")
        assert response.json() == {"data": ALPHA_MESSAGES[0]}

    async def test_unknown_message_is_404(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/messages/ACnothing"), 404)
        assert (body["code"], body["title"], body["message"]) == ("0200404", "Not Found", "Message not found")

    async def test_a_call_id_is_not_a_message(self, client: httpx.AsyncClient) -> None:
        """Calls and messages share the AC prefix (notes §3.5) but not their lookups."""
        assert (await client.get("/v1/messages/ACsandboxCallAlpha1")).status_code == 404

    async def test_an_id_without_the_ac_prefix_is_400(self, client: httpx.AsyncClient) -> None:
        assert broken_rules(await client.get("/v1/messages/sandboxMsgAlpha01"), A2P) == [("/id", "string")]
