"""End to end, the log lines the gateway emits hold no key, token, message body or full phone number.

A full OAuth flow, then tool calls with the issued token (a send with a recognisable body, reads,
a refused scope), a bad token and a legacy SSE session: every record from the server's loggers is
formatted exactly as production emits it (`JSONFormatter`) and scanned.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.operations.logs import JSONFormatter, RequestIdFilter
from tests.conftest import free_port, make_settings, serve
from tests.oauth.flow import SEND_FREELY, tokens_for
from tools.sandbox import SANDBOX_API_KEY
from tools.sandbox import data as seed

pytestmark = pytest.mark.anyio

BODY = "Gate code 7719, parcel under the mat"
SERVER_LOGGERS = ("gateway", "oauth", "tools", "uvicorn")
DIGIT_RUN = re.compile(r"\d{10,}")
# Hex ids (request ids, fingerprints, send audit ids, grant digests) may hold any digits by chance.
HEX_ID_FIELDS = ("request_id", "principal", "session", "audit_id", "grant")


@pytest.fixture
def server_url() -> Iterator[str]:
    settings = make_settings(free_port(), sandbox=True, oauth_rate_limit=1000)
    yield from serve(create_app(settings), settings.port)


async def test_a_full_session_logs_no_secret(server_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(base_url=server_url, timeout=10, follow_redirects=False) as web:
        client, tokens = await tokens_for(web, choices=SEND_FREELY)
        bearer = {"authorization": f"Bearer {tokens['access_token']}", "accept": "application/json"}
        send = {"from": seed.MAIN_LINE_NUMBER, "to": seed.JORDAN_NUMBER, "content": BODY}
        for name, arguments in (
            ("send-message", send),
            ("fetch-messages", {"inbox": seed.MAIN_LINE_NUMBER, "participant": seed.JORDAN_NUMBER}),
            ("send-message", {**send, "to": "not a number"}),
        ):
            call = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
            assert (await web.post("/mcp", json=call, headers=bearer)).status_code == 200
        forged = {"authorization": f"Bearer {tokens['access_token'][:-4]}AAAA"}
        assert (
            await web.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=forged)
        ).status_code == 401
        refreshed = await web.post(
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": client["client_id"],
            },
        )
        assert refreshed.status_code == 200
        key = {"x-openphone-api-key": SANDBOX_API_KEY}
        async with web.stream("GET", "/sse", headers=key) as stream:
            lines_in = stream.aiter_lines()
            async for line in lines_in:
                if line.startswith("data:"):
                    session_path = line.removeprefix("data:").strip()
                    break
            ping = {"jsonrpc": "2.0", "id": 3, "method": "ping"}
            assert (await web.post(session_path, json=ping, headers=key)).status_code == 202
            async for line in lines_in:
                if line.startswith("data:"):
                    break

    formatter = JSONFormatter()
    request_ids = RequestIdFilter()
    records = [record for record in caplog.records if record.name.startswith(SERVER_LOGGERS)]
    lines = []
    for record in records:
        request_ids.filter(record)
        lines.append(formatter.format(record))
    sends = [
        json.loads(line) for line in lines if '"tool":"send-message"' in line and "gateway.access" in line
    ]
    assert {(send["outcome"], send.get("upstream_status")) for send in sends} == {
        ("ok", 202),
        ("error", None),
    }
    assert all(send["principal"] and send["request_id"] for send in sends)
    secrets = [
        SANDBOX_API_KEY,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
        refreshed.json()["refresh_token"],
        session_path.split("=", 1)[1],
        BODY,
    ]
    for line in lines:
        for secret in secrets:
            assert secret not in line
        # Hex ids may hold ten digits, or the body's "7719", by chance; nothing else may.
        fields = json.dumps(
            {name: value for name, value in json.loads(line).items() if name not in HEX_ID_FIELDS}
        )
        assert not DIGIT_RUN.search(fields), line
        assert "7719" not in fields, line
