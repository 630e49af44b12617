"""Calls over real HTTP: list (notes §2.4), recordings (§2.6), summaries (§2.7), transcripts (§2.8)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tests.tools.sandbox.expect import broken_rules, error_body
from tools.sandbox.data import (
    CALL_FAILED_ID,
    CALL_NOT_TRANSCRIBED_ID,
    CALL_PLAN_INELIGIBLE_ID,
    CALL_PROCESSING_ID,
    CALL_TRANSCRIBED_ID,
    CALL_UNANSWERED_ID,
    CALL_WITH_JOBS_ID,
    JORDAN_NUMBER,
    MAIN_LINE_ID,
    MAIN_LINE_NUMBER,
    MARCUS_NUMBER,
    SUMMARIES,
    SUPPORT_LINE_ID,
    TRANSCRIPTS,
    UNKNOWN_CALLER_NUMBER,
)

pytestmark = pytest.mark.anyio

CALLS = {"phoneNumberId": MAIN_LINE_ID, "participants": JORDAN_NUMBER, "maxResults": "10"}


class TestList:
    async def test_calls_with_a_participant_newest_first(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/v1/calls", params=CALLS)).json()
        assert [call["id"] for call in page["data"]] == [CALL_NOT_TRANSCRIBED_ID, CALL_TRANSCRIBED_ID]
        assert (page["totalItems"], page["nextPageToken"]) == (2, None)

    async def test_a_completed_call_in_full(self, client: httpx.AsyncClient) -> None:
        page = (await client.get("/v1/calls", params=CALLS)).json()
        assert page["data"][1] == {
            "answeredAt": "2026-10-21T10:00:06.000Z",
            "answeredBy": "USsandboxOwner",
            "initiatedBy": None,
            "direction": "incoming",
            "status": "completed",
            "completedAt": "2026-10-21T10:05:18.000Z",
            "createdAt": "2026-10-21T10:00:00.000Z",
            "duration": 312,
            "forwardedFrom": None,
            "forwardedTo": None,
            "id": CALL_TRANSCRIBED_ID,
            "phoneNumberId": MAIN_LINE_ID,
            "participants": [JORDAN_NUMBER],
            "updatedAt": "2026-10-21T10:05:18.000Z",
            "userId": "USsandboxOwner",
        }

    async def test_pagination(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/v1/calls", params={**CALLS, "maxResults": "1"})).json()
        params = {**CALLS, "maxResults": "1", "pageToken": first["nextPageToken"]}
        second = (await client.get("/v1/calls", params=params)).json()
        assert [first["data"][0]["id"], second["data"][0]["id"]] == [
            CALL_NOT_TRANSCRIBED_ID,
            CALL_TRANSCRIBED_ID,
        ]
        assert second["nextPageToken"] is None

    async def test_a_participant_without_calls(self, client: httpx.AsyncClient) -> None:
        params = {**CALLS, "phoneNumberId": SUPPORT_LINE_ID}
        assert (await client.get("/v1/calls", params=params)).json()["data"] == []

    @pytest.mark.parametrize(
        ("user_id", "expected"),
        [
            pytest.param("USsandboxAgent", [CALL_WITH_JOBS_ID], id="agent"),
            pytest.param("USsandboxOwner", [], id="owner"),
            pytest.param(None, [CALL_WITH_JOBS_ID], id="anyone"),
        ],
    )
    async def test_user_filter(
        self, client: httpx.AsyncClient, user_id: str | None, expected: list[str]
    ) -> None:
        """No default user is applied: the docs' "workspace owner" default contradicts changelog 1.0.1."""
        params = {**CALLS, "participants": "+12125550147"} | ({"userId": user_id} if user_id else {})
        assert [c["id"] for c in (await client.get("/v1/calls", params=params)).json()["data"]] == expected

    async def test_created_window(self, client: httpx.AsyncClient) -> None:
        params = {**CALLS, "createdAfter": "2026-10-22T00:00:00Z"}
        assert [c["id"] for c in (await client.get("/v1/calls", params=params)).json()["data"]] == [
            CALL_NOT_TRANSCRIBED_ID
        ]

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            pytest.param(
                {"participants": [JORDAN_NUMBER, MARCUS_NUMBER]},
                [("/participants", "array")],
                id="two-participants",
            ),
            pytest.param({"participants": ""}, [("/participants/0", "string")], id="empty-participant"),
            pytest.param({"participants": None}, [("/participants", "array")], id="no-participant"),
            pytest.param(
                {"phoneNumberId": MAIN_LINE_NUMBER}, [("/phoneNumberId", "string")], id="e164-not-pn"
            ),
            pytest.param({"maxResults": "500"}, [("/maxResults", "integer")], id="max-results-500"),
        ],
    )
    async def test_invalid_query_is_400(
        self, client: httpx.AsyncClient, change: dict[str, Any], expected: list[tuple[str, str]]
    ) -> None:
        """Notes §2.4: one participant (1:1 calls only), a PN id, maxResults 1-100."""
        params = {key: value for key, value in {**CALLS, **change}.items() if value is not None}
        assert broken_rules(await client.get("/v1/calls", params=params), "0100400") == expected

    async def test_two_participants_message(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/v1/calls", params={**CALLS, "participants": [JORDAN_NUMBER, MARCUS_NUMBER]}
        )
        assert error_body(response, 400)["errors"] == [
            {
                "path": "/participants",
                "message": "Expected array length to be less or equal to 1",
                "schema": {"type": "array"},
            }
        ]


class TestTranscripts:
    @pytest.mark.parametrize(
        "call_id",
        [
            pytest.param(CALL_TRANSCRIBED_ID, id="completed"),
            pytest.param(CALL_WITH_JOBS_ID, id="completed-outgoing"),
            pytest.param(CALL_PROCESSING_ID, id="in-progress"),
            pytest.param(CALL_FAILED_ID, id="failed"),
        ],
    )
    async def test_seeded_transcripts(self, client: httpx.AsyncClient, call_id: str) -> None:
        response = await client.get(f"/v1/call-transcripts/{call_id}")
        assert response.json() == {"data": TRANSCRIPTS[call_id]}

    async def test_a_completed_transcript_has_both_speakers(self, client: httpx.AsyncClient) -> None:
        transcript = (await client.get(f"/v1/call-transcripts/{CALL_TRANSCRIBED_ID}")).json()["data"]
        assert transcript["status"] == "completed"
        assert [(line["identifier"], line["userId"]) for line in transcript["dialogue"][:2]] == [
            (JORDAN_NUMBER, None),
            (MAIN_LINE_NUMBER, "USsandboxOwner"),
        ]

    @pytest.mark.parametrize(
        "call_id",
        [
            pytest.param(CALL_NOT_TRANSCRIBED_ID, id="missed"),
            pytest.param(CALL_UNANSWERED_ID, id="unanswered"),
        ],
    )
    async def test_a_call_never_transcribed_is_absent(self, client: httpx.AsyncClient, call_id: str) -> None:
        transcript = (await client.get(f"/v1/call-transcripts/{call_id}")).json()["data"]
        assert (transcript["status"], transcript["dialogue"], transcript["duration"]) == ("absent", None, 0)

    async def test_the_unknown_caller_has_no_transcript_at_all(self, client: httpx.AsyncClient) -> None:
        params = {"phoneNumberId": MAIN_LINE_ID, "participants": UNKNOWN_CALLER_NUMBER, "maxResults": "10"}
        calls = (await client.get("/v1/calls", params=params)).json()["data"]
        statuses = [
            (await client.get(f"/v1/call-transcripts/{call['id']}")).json()["data"]["status"]
            for call in calls
        ]
        assert statuses == ["absent"]

    async def test_plan_not_eligible_is_403(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get(f"/v1/call-transcripts/{CALL_PLAN_INELIGIBLE_ID}"), 403)
        assert body == {
            "message": "Call transcripts are only available on the Business and Scale plans",
            "code": "0600403",
            "status": 403,
            "docs": "https://openphone.com/docs",
            "title": "Forbidden",
        }

    async def test_the_plan_switch_is_per_call(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        sandbox.state.ineligible_call_ids.add(CALL_TRANSCRIBED_ID)
        assert (await client.get(f"/v1/call-transcripts/{CALL_TRANSCRIBED_ID}")).status_code == 403
        assert (await client.get(f"/v1/call-transcripts/{CALL_WITH_JOBS_ID}")).status_code == 200

    async def test_unknown_call_is_404(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/call-transcripts/ACnothing"), 404)
        assert (body["code"], body["message"]) == ("0600404", "Call not found")

    async def test_id_without_ac_prefix_is_400(self, client: httpx.AsyncClient) -> None:
        assert broken_rules(await client.get("/v1/call-transcripts/CNsandboxAlpha"), "0600400") == [
            ("/id", "string")
        ]


class TestSummaries:
    @pytest.mark.parametrize(
        "call_id",
        [
            pytest.param(CALL_TRANSCRIBED_ID, id="completed"),
            pytest.param(CALL_WITH_JOBS_ID, id="completed-with-jobs"),
            pytest.param(CALL_PROCESSING_ID, id="in-progress"),
            pytest.param(CALL_FAILED_ID, id="failed"),
        ],
    )
    async def test_seeded_summaries(self, client: httpx.AsyncClient, call_id: str) -> None:
        assert (await client.get(f"/v1/call-summaries/{call_id}")).json() == {"data": SUMMARIES[call_id]}

    async def test_a_call_without_summary_is_absent(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/call-summaries/{CALL_NOT_TRANSCRIBED_ID}")).json() == {
            "data": {
                "callId": CALL_NOT_TRANSCRIBED_ID,
                "nextSteps": None,
                "status": "absent",
                "summary": None,
            }
        }

    async def test_plan_not_eligible_is_403(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get(f"/v1/call-summaries/{CALL_PLAN_INELIGIBLE_ID}"), 403)
        assert (body["code"], body["title"]) == ("0500403", "Forbidden")

    async def test_unknown_call_is_404(self, client: httpx.AsyncClient) -> None:
        assert error_body(await client.get("/v1/call-summaries/ACnothing"), 404)["code"] == "0500404"

    async def test_id_without_ac_prefix_is_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/call-summaries/nothing")
        assert broken_rules(response, "0500400") == [("/callId", "string")]


class TestRecordings:
    async def test_an_answered_call_has_one_recording(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/call-recordings/{CALL_TRANSCRIBED_ID}")).json() == {
            "data": [
                {
                    "duration": 312,
                    "id": "CRsandboxCallAlpha1",
                    "startTime": "2026-10-21T10:00:06.000Z",
                    "status": "completed",
                    "type": "audio/mpeg",
                    "url": "https://recordings.sandbox.invalid/ACsandboxCallAlpha1.mp3",
                }
            ]
        }

    async def test_a_missed_call_has_none(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/call-recordings/{CALL_NOT_TRANSCRIBED_ID}")).json() == {"data": []}

    async def test_unknown_call_is_404(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/call-recordings/ACnothing"), 404)
        assert (body["code"], body["message"]) == ("0900404", "Call Recording with ID ACnothing not found")
