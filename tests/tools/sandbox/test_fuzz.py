"""Hypothesis against the served sandbox: no input gives a 5xx unless a fault was planned, every
response validates against the spec, a 2xx never answers a request the spec refuses, and no key is
ever echoed."""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.sandbox.conftest import REQUEST_TIMEOUT_SECONDS, Sandbox, SandboxServer
from tools.sandbox import SANDBOX_API_KEY, Fault
from tools.sandbox.data import CONTACT_JORDAN_ID, JORDAN_NUMBER, MAIN_LINE_ID

FUZZ = settings(max_examples=120, deadline=None)

LISTS = [
    "/v1/messages",
    "/v1/calls",
    "/v1/conversations",
    "/v1/contacts",
    "/v1/phone-numbers",
    "/v1/contact-custom-fields",
    "/v1/users",
]
ITEMS = [
    "/v1/messages/",
    "/v1/call-summaries/",
    "/v1/call-transcripts/",
    "/v1/call-recordings/",
    "/v1/contacts/",
    "/v1/calls/",
    "/v1/call-voicemails/",
    "/v1/phone-numbers/",
    "/v1/users/",
]
PARAMETERS = [
    "phoneNumberId",
    "participants",
    "maxResults",
    "pageToken",
    "createdAfter",
    "createdBefore",
    "since",
    "userId",
    "phoneNumbers",
    "phoneNumber",
    "excludeInactive",
    "updatedAfter",
    "updatedBefore",
    "externalIds",
    "sources",
]
PLAUSIBLE = [
    MAIN_LINE_ID,
    "PNsandboxSupport",
    JORDAN_NUMBER,
    "+14155550100",
    "+12125550147",
    "USsandboxOwner",
    "USsandboxAgent",
    "1",
    "10",
    "50",
    "100",
    "0",
    "-1",
    "true",
    "false",
    "2026-10-20T10:00:00Z",
    "2026-10-20T10:00:00.000+02:00",
    "bWVzc2FnZXM6MTA",
    "Y29udmVyc2F0aW9uczoy",
    "crm-1001",
    "public-api",
    "",
]
IDS = [
    "ACsandboxMsgAlpha01",
    "ACsandboxCallAlpha1",
    "ACsandboxCallDelta1",
    "ACsandboxCallAlpha2",
    "ACsandboxCallFoxtrot1",
    "ACnothing",
    "PNsandboxMain",
    "USsandboxAdmin",
    CONTACT_JORDAN_ID,
    "",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=12,
)
query_values = st.sampled_from(PLAUSIBLE) | st.text(max_size=20)
queries = st.lists(st.tuples(st.sampled_from(PARAMETERS) | st.text(max_size=8), query_values), max_size=8)
path_ids = st.sampled_from(IDS) | st.text(max_size=16)
send_bodies = st.fixed_dictionaries(
    {},
    optional={
        "from": st.sampled_from([MAIN_LINE_ID, "+14155550199", "PNnowhere", "+12025550111"]) | json_values,
        "to": st.lists(st.sampled_from([JORDAN_NUMBER, "+13125550170"]) | st.text(max_size=16), max_size=2)
        | json_values,
        "content": st.text(max_size=40) | json_values,
        "userId": st.sampled_from(["USsandboxOwner", "USsandboxAgent", "USx"]) | json_values,
        "setInboxStatus": st.just("done") | json_values,
    },
)
contact_bodies = st.fixed_dictionaries(
    {},
    optional={
        "defaultFields": st.fixed_dictionaries(
            {}, optional={"firstName": st.text(max_size=10) | json_values, "emails": json_values}
        )
        | json_values,
        "customFields": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "key": st.sampled_from(["deal-size", "inbound-lead", "lifecycle-stage", "nope"])
                    | json_values,
                    "value": json_values,
                },
            ),
            max_size=2,
        )
        | json_values,
        "externalId": st.text(max_size=8) | json_values,
        "source": st.text(max_size=8) | json_values,
    },
)


@pytest.fixture(scope="module")
def fuzzed(sandbox_server: SandboxServer) -> Sandbox:
    """One sandbox for every example of the module: its spec check accumulates over all of them."""
    return sandbox_server.install()


@pytest.fixture(scope="module")
def http(fuzzed: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": SANDBOX_API_KEY}
    with httpx.Client(base_url=fuzzed.url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        yield client


def assert_answered_by_the_spec(fuzzed: Sandbox, response: httpx.Response, *, is_spec_encoded: bool) -> None:
    """No 5xx, a response the spec documents, and (for 2xx) a request the spec accepts."""
    assert response.status_code < 500
    assert fuzzed.check.response_violations == []
    if is_spec_encoded:
        assert fuzzed.check.request_violations == []
    fuzzed.check.request_violations.clear()


@FUZZ
@given(path=st.sampled_from(LISTS), query=queries)
def test_any_query_on_a_list(
    fuzzed: Sandbox, http: httpx.Client, path: str, query: list[tuple[str, Any]]
) -> None:
    response = http.get(path, params=query)
    assert_answered_by_the_spec(fuzzed, response, is_spec_encoded=not any("[" in key for key, _ in query))


@FUZZ
@given(prefix=st.sampled_from(ITEMS), item_id=path_ids)
def test_any_id(fuzzed: Sandbox, http: httpx.Client, prefix: str, item_id: str) -> None:
    response = http.get(prefix + quote(item_id, safe=""))
    assert_answered_by_the_spec(fuzzed, response, is_spec_encoded=True)


@FUZZ
@given(item_id=path_ids)
def test_any_delete(fuzzed: Sandbox, http: httpx.Client, item_id: str) -> None:
    response = http.delete("/v1/contacts/" + quote(item_id, safe=""))
    assert_answered_by_the_spec(fuzzed, response, is_spec_encoded=True)


@FUZZ
@given(
    target=st.sampled_from(
        [("POST", "/v1/messages"), ("POST", "/v1/contacts"), ("PATCH", f"/v1/contacts/{CONTACT_JORDAN_ID}")]
    ),
    body=send_bodies | contact_bodies | json_values,
)
def test_any_json_body(fuzzed: Sandbox, http: httpx.Client, target: tuple[str, str], body: Any) -> None:
    response = http.request(*target, json=body)
    assert_answered_by_the_spec(fuzzed, response, is_spec_encoded=True)


@FUZZ
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_any_bytes_as_a_body(fuzzed: Sandbox, http: httpx.Client, raw: bytes, content_type: str) -> None:
    response = http.post("/v1/messages", content=raw, headers={"content-type": content_type})
    assert_answered_by_the_spec(fuzzed, response, is_spec_encoded=True)


@FUZZ
@given(planned=st.none() | st.sampled_from([400, 403, 404, 429, 500, 502, 503]), path=st.sampled_from(LISTS))
def test_a_5xx_comes_only_from_a_planned_fault(
    fuzzed: Sandbox, http: httpx.Client, planned: int | None, path: str
) -> None:
    if planned is not None:
        fuzzed.state.faults.plan("GET", path, Fault.status(planned))
    query = {"phoneNumberId": MAIN_LINE_ID, "participants": JORDAN_NUMBER, "maxResults": "5"}
    response = http.get(path, params=query)
    assert response.status_code == (planned or 200)
    assert fuzzed.check.violations == []


@FUZZ
# The "op-key-" prefix keeps a random key from being a chance substring of the fixed 401 body.
@given(
    key=st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=8, max_size=40).map(
        "op-key-".__add__
    )
)
def test_no_key_but_the_sandbox_key_gets_in_and_none_is_echoed(
    fuzzed: Sandbox, http: httpx.Client, key: str
) -> None:
    response = http.get("/v1/phone-numbers", headers={"Authorization": key})
    assert response.status_code == (200 if key == SANDBOX_API_KEY else 401)
    if response.status_code == 401:
        assert key not in response.text
    assert fuzzed.check.violations == []
