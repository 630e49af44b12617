"""The benchmarks' fake OpenPhone answers as OpenPhone's own spec says, so every peer parses real data.

The harness itself is not part of the test run (scripts/bench runs it); this checks the one thing its
fairness rests on that a benchmark run would not notice: the canned body is a valid
`GET /v1/phone-numbers` answer.
"""

from __future__ import annotations

import httpx
import pytest

from tests.benchmarks.peers import PHONE_NUMBERS_PATH, phone_numbers_body, upstream_app
from tests.spec_check import SpecCheck
from tools.sandbox import SANDBOX_API_KEY

pytestmark = pytest.mark.anyio


async def test_the_canned_phone_number_list_is_valid_against_the_openapi_spec() -> None:
    checked = SpecCheck(upstream_app(await phone_numbers_body()))
    transport = httpx.ASGITransport(app=checked)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.openphone.com") as client:
        response = await client.get(PHONE_NUMBERS_PATH, headers={"authorization": SANDBOX_API_KEY})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2
    assert checked.checked == 1
    assert checked.violations == []
