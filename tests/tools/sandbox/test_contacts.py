"""Contacts over real HTTP: create, list, get, update and delete (notes §2.10)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.tools.sandbox.conftest import Sandbox
from tests.tools.sandbox.expect import broken_rules, error_body
from tools.sandbox.data import (
    CONTACT_ELENA_ID,
    CONTACT_JORDAN_ID,
    CONTACT_MARCUS_ID,
    CONTACT_PRIYA_ID,
    CONTACTS,
    custom_field_value,
)

pytestmark = pytest.mark.anyio

INVALID = "0801400"  # the spec's only 400 for contact operations: "Invalid Custom Field Item"
NEWEST_FIRST = [CONTACT_ELENA_ID, CONTACT_MARCUS_ID, CONTACT_PRIYA_ID, CONTACT_JORDAN_ID]
ADA = {"defaultFields": {"firstName": "Ada", "lastName": "Lovelace"}}


class TestCreate:
    async def test_create_is_201_with_the_contact(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        response = await client.post("/v1/contacts", json=ADA)
        assert response.status_code == 201
        assert response.json() == {
            "data": {
                "id": "6740ffff0000000000000001",
                "externalId": None,
                "source": "public-api",
                "sourceUrl": None,
                "defaultFields": {
                    "company": None,
                    "emails": [],
                    "firstName": "Ada",
                    "lastName": "Lovelace",
                    "phoneNumbers": [],
                    "role": None,
                },
                "customFields": [],
                "createdAt": "2026-11-01T12:00:00.000Z",
                "updatedAt": "2026-11-01T12:00:00.000Z",
                "createdByUserId": "USsandboxOwner",
            }
        }
        assert sandbox.state.contacts["6740ffff0000000000000001"] == response.json()["data"]

    async def test_custom_fields_are_resolved_by_key(self, client: httpx.AsyncClient) -> None:
        body = {
            **ADA,
            "customFields": [{"key": "deal-size", "value": 1500}, {"key": "inbound-lead", "value": None}],
        }
        contact = (await client.post("/v1/contacts", json=body)).json()["data"]
        assert contact["customFields"] == [
            custom_field_value("deal-size", 1500),
            custom_field_value("inbound-lead", None),
        ]

    async def test_every_field(self, client: httpx.AsyncClient) -> None:
        body = {
            "defaultFields": {
                "firstName": None,
                "company": "Analytical Engines",
                "role": "Engineer",
                "emails": [{"name": "work", "value": "ada@engines.test"}],
                "phoneNumbers": [{"name": "mobile", "value": "+13125550170"}],
            },
            "createdByUserId": "USsandboxAgent",
            "source": "crm",
            "sourceUrl": "https://crm.test/ada",
            "externalId": "crm-9",
        }
        contact = (await client.post("/v1/contacts", json=body)).json()["data"]
        assert contact["defaultFields"]["emails"] == [{"name": "work", "value": "ada@engines.test"}]
        assert (
            contact["source"],
            contact["sourceUrl"],
            contact["externalId"],
            contact["createdByUserId"],
        ) == (
            "crm",
            "https://crm.test/ada",
            "crm-9",
            "USsandboxAgent",
        )

    async def test_unknown_custom_field_key_is_0801400_in_both_shapes(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        """The spec requires path/message/schema; the older spec's `{key, reason}` come along."""
        response = await client.post(
            "/v1/contacts", json={**ADA, "customFields": [{"key": "shoe-size", "value": 9}]}
        )
        assert error_body(response, 400) == {
            "message": "Invalid request: customFields/0/key: Did not match any known contact custom field",
            "code": INVALID,
            "status": 400,
            "docs": "https://openphone.com/docs",
            "title": "Invalid Custom Field Item",
            "errors": [
                {
                    "path": "/customFields/0/key",
                    "message": "Did not match any known contact custom field",
                    "value": "shoe-size",
                    "schema": {"type": "string"},
                    "key": "shoe-size",
                    "reason": "Did not match any known contact custom field",
                }
            ],
            "description": "Invalid Custom Field Item",
        }
        assert len(sandbox.state.contacts) == len(CONTACTS)

    @pytest.mark.parametrize(
        ("item", "expected"),
        [
            pytest.param(
                {"key": "deal-size", "value": "big"}, ("/customFields/0/value", "number"), id="number"
            ),
            pytest.param(
                {"key": "deal-size", "value": True}, ("/customFields/0/value", "number"), id="bool-not-num"
            ),
            pytest.param(
                {"key": "inbound-lead", "value": "yes"}, ("/customFields/0/value", "boolean"), id="boolean"
            ),
            pytest.param(
                {"key": "lifecycle-stage", "value": "lead"}, ("/customFields/0/value", "array"), id="multi"
            ),
            pytest.param(
                {"key": "renewal-date", "value": "soon"}, ("/customFields/0/value", "string"), id="date"
            ),
            pytest.param(
                {"key": "account-tier", "value": 3}, ("/customFields/0/value", "string"), id="string"
            ),
            pytest.param({"value": "gold"}, ("/customFields/0/key", "string"), id="no-key"),
            pytest.param({"key": "account-tier"}, ("/customFields/0/value", "object"), id="no-value"),
        ],
    )
    async def test_invalid_custom_field_is_400(
        self, client: httpx.AsyncClient, item: dict[str, Any], expected: tuple[str, str]
    ) -> None:
        response = await client.post("/v1/contacts", json={**ADA, "customFields": [item]})
        assert broken_rules(response, INVALID) == [expected]

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            pytest.param({}, [("/defaultFields", "object")], id="no-default-fields"),
            pytest.param({"defaultFields": {}}, [("/defaultFields/firstName", "object")], id="no-first-name"),
            pytest.param({**ADA, "externalId": ""}, [("/externalId", "string")], id="empty-external-id"),
            pytest.param({**ADA, "source": "x" * 73}, [("/source", "string")], id="source-too-long"),
            pytest.param({**ADA, "sourceUrl": "not a url"}, [("/sourceUrl", "string")], id="source-url"),
            pytest.param({**ADA, "createdByUserId": "sam"}, [("/createdByUserId", "string")], id="user-id"),
            pytest.param({**ADA, "nickname": "Ada"}, [("/nickname", "object")], id="unknown-key"),
        ],
    )
    async def test_invalid_body_is_400(
        self, client: httpx.AsyncClient, body: dict[str, Any], expected: list[tuple[str, str]]
    ) -> None:
        assert broken_rules(await client.post("/v1/contacts", json=body), INVALID) == expected

    async def test_duplicate_external_id_is_409(self, client: httpx.AsyncClient) -> None:
        """Our reading of the spec's undocumented 0800409 Conflict (notes §2.10)."""
        body = error_body(await client.post("/v1/contacts", json={**ADA, "externalId": "crm-1001"}), 409)
        assert (body["code"], body["title"], body["message"]) == (
            "0800409",
            "Conflict",
            "A contact with this externalId already exists",
        )


class TestList:
    async def test_without_external_ids_lists_every_contact(self, client: httpx.AsyncClient) -> None:
        """The overlay: `externalIds` is optional, as the newer docs say (notes §2.10)."""
        page = (await client.get("/v1/contacts", params={"maxResults": "10"})).json()
        assert [contact["id"] for contact in page["data"]] == NEWEST_FIRST
        assert (page["totalItems"], page["nextPageToken"]) == (4, None)

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            pytest.param(
                {"externalIds": ["crm-1001", "hs-301"]}, [CONTACT_MARCUS_ID, CONTACT_JORDAN_ID], id="ext"
            ),
            pytest.param({"externalIds[]": "crm-1002"}, [CONTACT_PRIYA_ID], id="ext-brackets"),
            pytest.param({"sources": "public-api"}, [CONTACT_PRIYA_ID, CONTACT_JORDAN_ID], id="source"),
            pytest.param({"externalIds": "crm-1001", "sources": "hubspot"}, [], id="both"),
            pytest.param({"externalIds": "nobody"}, [], id="unknown-external-id"),
        ],
    )
    async def test_filters(
        self, client: httpx.AsyncClient, params: dict[str, Any], expected: list[str]
    ) -> None:
        page = (await client.get("/v1/contacts", params={"maxResults": "10", **params})).json()
        assert [contact["id"] for contact in page["data"]] == expected

    async def test_pagination(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/v1/contacts", params={"maxResults": "3"})).json()
        params = {"maxResults": "3", "pageToken": first["nextPageToken"]}
        second = (await client.get("/v1/contacts", params=params)).json()
        assert [c["id"] for c in first["data"] + second["data"]] == NEWEST_FIRST
        assert second["nextPageToken"] is None

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            pytest.param({"maxResults": "51"}, [("/maxResults", "integer")], id="max-results-51"),
            pytest.param({}, [("/maxResults", "integer")], id="no-max-results"),
            pytest.param(
                {"maxResults": "5", "externalIds": "x" * 76}, [("/externalIds/0", "string")], id="long-id"
            ),
            pytest.param({"maxResults": "5", "sources": ""}, [("/sources/0", "string")], id="empty-source"),
        ],
    )
    async def test_invalid_query_is_400(
        self, client: httpx.AsyncClient, params: dict[str, Any], expected: list[tuple[str, str]]
    ) -> None:
        assert broken_rules(await client.get("/v1/contacts", params=params), INVALID) == expected


class TestGetUpdateDelete:
    async def test_get(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/v1/contacts/{CONTACT_JORDAN_ID}")).json() == {"data": CONTACTS[0]}

    async def test_get_unknown_is_404(self, client: httpx.AsyncClient) -> None:
        body = error_body(await client.get("/v1/contacts/6740ffff0000000000000999"), 404)
        assert (body["code"], body["message"]) == ("0800404", "Contact not found")

    async def test_update_changes_only_what_was_sent(self, client: httpx.AsyncClient) -> None:
        body = {
            "defaultFields": {"role": "Founder", "emails": []},
            "customFields": [{"key": "deal-size", "value": 5000}, {"key": "account-tier", "value": "gold"}],
        }
        contact = (await client.patch(f"/v1/contacts/{CONTACT_JORDAN_ID}", json=body)).json()["data"]
        before = CONTACTS[0]
        assert contact["defaultFields"] == {**before["defaultFields"], "role": "Founder", "emails": []}
        assert contact["customFields"] == [
            custom_field_value("inbound-lead", True),
            custom_field_value("lifecycle-stage", ["customer"]),
            custom_field_value("deal-size", 5000),
            custom_field_value("account-tier", "gold"),
        ]
        assert (contact["externalId"], contact["source"]) == ("crm-1001", "public-api")
        assert contact["updatedAt"] == "2026-11-01T12:00:00.000Z"

    async def test_update_by_custom_field_id(self, client: httpx.AsyncClient) -> None:
        field_id = custom_field_value("inbound-lead", None)["id"]
        body = {"customFields": [{"id": field_id, "value": False}]}
        contact = (await client.patch(f"/v1/contacts/{CONTACT_JORDAN_ID}", json=body)).json()["data"]
        assert contact["customFields"][0] == custom_field_value("inbound-lead", False)

    async def test_update_may_clear_the_external_id(
        self, client: httpx.AsyncClient, sandbox: Sandbox
    ) -> None:
        await client.patch(f"/v1/contacts/{CONTACT_JORDAN_ID}", json={"externalId": None})
        assert sandbox.state.contacts[CONTACT_JORDAN_ID]["externalId"] is None

    async def test_invalid_update_changes_nothing(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        body = {"defaultFields": {"role": "Founder"}, "customFields": [{"key": "shoe-size", "value": 9}]}
        response = await client.patch(f"/v1/contacts/{CONTACT_JORDAN_ID}", json=body)
        assert broken_rules(response, INVALID) == [("/customFields/0/key", "string")]
        assert sandbox.state.contacts[CONTACT_JORDAN_ID] == CONTACTS[0]

    async def test_update_to_a_taken_external_id_is_409(self, client: httpx.AsyncClient) -> None:
        response = await client.patch(f"/v1/contacts/{CONTACT_JORDAN_ID}", json={"externalId": "crm-1002"})
        assert error_body(response, 409)["code"] == "0800409"

    async def test_update_unknown_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.patch("/v1/contacts/nobody", json={"externalId": "x"})
        assert error_body(response, 404)["code"] == "0800404"

    async def test_delete_is_204_without_body(self, client: httpx.AsyncClient, sandbox: Sandbox) -> None:
        response = await client.delete(f"/v1/contacts/{CONTACT_ELENA_ID}")
        assert (response.status_code, response.content) == (204, b"")
        assert CONTACT_ELENA_ID not in sandbox.state.contacts
        assert (await client.get(f"/v1/contacts/{CONTACT_ELENA_ID}")).status_code == 404

    async def test_delete_twice_is_404(self, client: httpx.AsyncClient) -> None:
        await client.delete(f"/v1/contacts/{CONTACT_ELENA_ID}")
        assert error_body(await client.delete(f"/v1/contacts/{CONTACT_ELENA_ID}"), 404)["code"] == "0800404"
