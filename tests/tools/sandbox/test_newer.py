"""The operations only the newer docs pages document, over real HTTP: get a call (notes §2.5), a voicemail
(§2.9), a phone number by id (§2.12), users (§2.13); and recordings in two segments or off the plan (§2.6)."""

from __future__ import annotations

import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tests.tools.sandbox.expect import broken_rules, error_body
from tools.sandbox.data import (
    ADMIN_USER_ID,
    AGENT_USER_ID,
    CALL_PLAN_INELIGIBLE_ID,
    CALL_PROCESSING_ID,
    CALL_TRANSCRIBED_ID,
    CALL_TWO_RECORDINGS_ID,
    CALL_VOICEMAIL_ID,
    CALL_VOICEMAIL_PROCESSING_ID,
    MAIN_LINE_ID,
    OWNER_USER_ID,
    PHONE_NUMBERS,
    VOICEMAILS,
)

pytestmark = pytest.mark.anyio


class TestGetCall:
    async def test_a_call_carries_the_newer_fields(self, client: httpx.AsyncClient) -> None:
        call = (await client.get(f"/v1/calls/{CALL_TRANSCRIBED_ID}")).json()["data"]
        listed = (
            await client.get(
                "/v1/calls",
                params={
                    "phoneNumberId": MAIN_LINE_ID,
                    "participants": call["participants"],
                    "maxResults": 10,
                },
            )
        ).json()["data"]
        same = next(item for item in listed if item["id"] == CALL_TRANSCRIBED_ID)
        assert call == {**same, "callRoute": "phone-number", "aiHandled": None}

    @pytest.mark.parametrize(
        ("call_id", "route"),
        [
            pytest.param(CALL_PROCESSING_ID, "phone-menu", id="support-menu"),
            pytest.param("ACsandboxCallBravo1", None, id="outgoing"),
        ],
    )
    async def test_the_route_follows_direction_and_inbox(
        self, client: httpx.AsyncClient, call_id: str, route: str | None
    ) -> None:
        assert (await client.get(f"/v1/calls/{call_id}")).json()["data"]["callRoute"] == route

    async def test_unknown_call_is_404(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/calls/ACnothing"), 404)
        assert (body["code"], body["message"]) == ("0100404", "Call not found")

    async def test_id_without_ac_prefix_is_the_documented_400(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/calls/nothing")
        assert broken_rules(response, "0101400") == [("/callId", "string")]


class TestVoicemail:
    async def test_a_completed_voicemail(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/call-voicemails/{CALL_VOICEMAIL_ID}")).json() == {
            "data": {
                "duration": 17,
                "id": "VMsandboxAlpha2",
                "transcript": VOICEMAILS[CALL_VOICEMAIL_ID]["transcript"],
                "recordingUrl": "https://recordings.sandbox.invalid/VMsandboxAlpha2.mp3",
                "status": "completed",
            }
        }

    async def test_a_processing_voicemail_has_null_fields(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v1/call-voicemails/{CALL_VOICEMAIL_PROCESSING_ID}")
        assert response.json() == {
            "data": {
                "duration": None,
                "id": "VMsandboxFoxtrot1",
                "transcript": None,
                "recordingUrl": None,
                "status": "in-progress",
            }
        }

    @pytest.mark.parametrize(
        ("call_id", "message"),
        [
            pytest.param(
                CALL_TRANSCRIBED_ID, f"Voicemail for call {CALL_TRANSCRIBED_ID} not found", id="none"
            ),
            pytest.param("ACnothing", "Call not found", id="unknown-call"),
        ],
    )
    async def test_no_voicemail_is_404(self, client: httpx.AsyncClient, call_id: str, message: str) -> None:
        body = error_body(await client.get(f"/v1/call-voicemails/{call_id}"), 404)
        assert (body["code"], body["message"]) == ("1200404", message)


class TestRecordings:
    async def test_a_paused_recording_has_two_segments_oldest_first(self, client: httpx.AsyncClient) -> None:
        segments = (await client.get(f"/v1/call-recordings/{CALL_TWO_RECORDINGS_ID}")).json()["data"]
        assert [(s["id"], s["startTime"], s["duration"]) for s in segments] == [
            ("CRsandboxCallBravo1a", "2026-10-19T11:00:06.000Z", 95),
            ("CRsandboxCallBravo1b", "2026-10-19T11:02:01.000Z", 64),
        ]

    async def test_a_plan_without_recordings_is_403(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get(f"/v1/call-recordings/{CALL_PLAN_INELIGIBLE_ID}"), 403)
        assert (body["code"], body["title"]) == ("0900403", "Forbidden")

    async def test_the_recording_switch_is_per_call(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        sandbox.state.recording_ineligible_call_ids.add(CALL_TRANSCRIBED_ID)
        assert (await client.get(f"/v1/call-recordings/{CALL_TRANSCRIBED_ID}")).status_code == 403


class TestPhoneNumber:
    async def test_by_id_is_the_listed_number(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/phone-numbers/{MAIN_LINE_ID}")).json() == {"data": PHONE_NUMBERS[0]}

    @pytest.mark.parametrize("ref", ["PNnothing", "+14155550100"])
    async def test_anything_but_a_known_id_is_404(self, client: httpx.AsyncClient, ref: str) -> None:
        body = error_body(await client.get(f"/v1/phone-numbers/{ref}"), 404)
        assert (body["code"], body["message"]) == ("0400404", "Phone number not found")


class TestUsers:
    async def test_pages_of_members_oldest_first(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/v1/users", params={"maxResults": 2})).json()
        rest = (
            await client.get("/v1/users", params={"maxResults": 2, "pageToken": first["nextPageToken"]})
        ).json()
        assert [user["id"] for user in first["data"] + rest["data"]] == [
            OWNER_USER_ID,
            AGENT_USER_ID,
            ADMIN_USER_ID,
        ]
        assert (first["totalItems"], rest["nextPageToken"]) == (3, None)

    async def test_one_member_in_full(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/users/{OWNER_USER_ID}")).json() == {
            "data": {
                "id": OWNER_USER_ID,
                "email": "avery@sandbox.test",
                "firstName": "Avery",
                "lastName": "Park",
                "pictureUrl": "https://pictures.sandbox.invalid/avery.png",
                "role": "owner",
                "createdAt": "2026-10-01T08:00:00.000Z",
                "updatedAt": "2026-10-01T08:00:00.000Z",
            }
        }

    @pytest.mark.parametrize(
        ("params", "broken"),
        [
            pytest.param({}, [("/maxResults", "integer")], id="missing"),
            pytest.param({"maxResults": 51}, [("/maxResults", "integer")], id="over-50"),
            pytest.param(
                {"maxResults": 5, "pageToken": "bWVzc2FnZXM6MTA"},
                [("/pageToken", "string")],
                id="foreign-token",
            ),
        ],
    )
    async def test_invalid_query_is_400(
        self, client: httpx.AsyncClient, params: dict[str, str | int], broken: list[tuple[str, str]]
    ) -> None:
        assert broken_rules(await client.get("/v1/users", params=params), "1100400") == broken

    async def test_unknown_user_is_404(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/users/USnobody"), 404)
        assert (body["code"], body["message"]) == ("1100404", "User not found")
