"""Three gateway processes on one real Redis act as one gateway (REDIS_URL): codes, refresh rotation,
revocation, legacy SSE, cancellation and pacing, over real HTTP, machine by machine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import orjson
import pytest
from mcp import Client
from mcp.client.sse import sse_client

from gateway.keys import ServerKeys
from gateway.redis.seals import RevocationTags
from gateway.settings import decode_secret_key
from gateway.transports.session_bus import INBOX_CAPACITY
from oauth.sealing import Claims, Sealer, TokenType
from tests.cluster import Cluster, cluster
from tests.conftest import TEST_API_KEY, TEST_SECRET_KEY
from tests.oauth.flow import REDIRECT_URI, Pkce, code_for, exchange, register, tokens_for
from tests.redis_server import RedisServer
from tests.sse import open_stream
from tests.toolkit import eventually
from tools.sandbox import SANDBOX_API_KEY

pytestmark = pytest.mark.anyio

PROPAGATION_BOUND_SECONDS = 5.0
JSON = {"content-type": "application/json", "accept": "application/json"}
KEYED = {**JSON, "x-openphone-api-key": TEST_API_KEY}


@pytest.fixture(scope="module")
def machines(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    redis_server.ensure_running()
    with cluster(
        redis_server.url,
        tmp_path_factory.mktemp("machines"),
        REFRESH_GRACE_SECONDS="1",
        OPENPHONE_RATE_LIMIT="5",
        OAUTH_RATE_LIMIT="10000",
        # The sends here test delivery across machines, not guardrails: the key sends as a script would.
        SEND_POLICY="allow",
        SEND_DAILY_LIMIT="1000",
        SEND_NEW_NUMBERS="true",
    ) as running:
        yield running


@pytest.fixture
async def web(machines: Cluster) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One browser-like client per machine (cookies kept, redirects not followed)."""
    async with machines.clients() as clients:
        yield clients


def rpc(method: str, request_id: int = 1, **params: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


async def tools_list(client: httpx.AsyncClient, access_token: str) -> int:
    response = await client.post(
        "/mcp",
        content=rpc("tools/list"),
        headers={**JSON, "authorization": f"Bearer {access_token}", "mcp-protocol-version": "2025-06-18"},
    )
    return response.status_code


async def refused_everywhere(web: list[httpx.AsyncClient], access_token: str) -> float:
    """Wait until every machine answers `access_token` with 401; the seconds it took."""

    async def refused() -> bool:
        return [await tools_list(machine, access_token) for machine in web] == [401] * len(web)

    return await eventually(refused, PROPAGATION_BOUND_SECONDS)


async def refresh(client: httpx.AsyncClient, client_id: str, refresh_token: str) -> httpx.Response:
    return await exchange(
        client, grant_type="refresh_token", refresh_token=refresh_token, client_id=client_id
    )


async def redeem(client: httpx.AsyncClient, client_id: str, code: str, pkce: Pkce) -> httpx.Response:
    return await exchange(
        client,
        grant_type="authorization_code",
        code=code,
        code_verifier=pkce.verifier,
        client_id=client_id,
        redirect_uri=REDIRECT_URI,
    )


class TestCodes:
    async def test_a_code_redeemed_on_one_machine_is_refused_on_another(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        client = await register(web[0])
        pkce = Pkce.new()
        code = await code_for(web[0], client["client_id"], pkce)
        first = await redeem(web[1], client["client_id"], code, pkce)
        replay = await redeem(web[0], client["client_id"], code, pkce)
        assert first.status_code == 200
        assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")

    async def test_a_replayed_code_revokes_what_the_first_redemption_issued_everywhere(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        client = await register(web[0])
        pkce = Pkce.new()
        code = await code_for(web[0], client["client_id"], pkce)
        access = (await redeem(web[1], client["client_id"], code, pkce)).json()["access_token"]
        assert await tools_list(web[2], access) == 200
        await redeem(web[2], client["client_id"], code, pkce)
        await refused_everywhere(web, access)

    async def test_concurrent_redemptions_on_three_machines_have_one_winner(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        client = await register(web[0])
        pkce = Pkce.new()
        code = await code_for(web[0], client["client_id"], pkce)
        answers = await asyncio.gather(
            *(redeem(web[i % 3], client["client_id"], code, pkce) for i in range(12))
        )
        assert sorted(answer.status_code for answer in answers) == [200] + [400] * 11


class TestRefresh:
    async def test_a_refresh_on_one_machine_rotates_for_all(self, web: list[httpx.AsyncClient]) -> None:
        client, tokens = await tokens_for(web[0])
        rotated = await refresh(web[1], client["client_id"], tokens["refresh_token"])
        assert rotated.status_code == 200
        assert (
            await refresh(web[2], client["client_id"], rotated.json()["refresh_token"])
        ).status_code == 200

    async def test_reuse_after_the_grace_window_revokes_the_family_everywhere(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        client, tokens = await tokens_for(web[0])
        newer = (await refresh(web[1], client["client_id"], tokens["refresh_token"])).json()
        await asyncio.sleep(1.5)  # REFRESH_GRACE_SECONDS=1
        reused = await refresh(web[0], client["client_id"], tokens["refresh_token"])
        assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
        newest = await refresh(web[2], client["client_id"], newer["refresh_token"])
        assert (newest.status_code, newest.json()["error"]) == (400, "invalid_grant")
        await refused_everywhere(web, newer["access_token"])

    async def test_concurrent_refreshes_on_three_machines_all_get_a_usable_answer(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        client, tokens = await tokens_for(web[0])
        answers = await asyncio.gather(
            *(refresh(web[i % 3], client["client_id"], tokens["refresh_token"]) for i in range(12))
        )
        assert [answer.status_code for answer in answers] == [200] * 12
        # One rotation: every answer is of the new generation, so any one of them refreshes again.
        again = await refresh(web[1], client["client_id"], answers[7].json()["refresh_token"])
        assert again.status_code == 200


class TestRevocation:
    async def test_revoking_on_one_machine_reaches_every_machine(self, web: list[httpx.AsyncClient]) -> None:
        client, tokens = await tokens_for(web[0])
        assert [await tools_list(machine, tokens["access_token"]) for machine in web] == [200, 200, 200]
        revoked = await web[0].post(
            "/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
        )
        assert revoked.status_code == 200
        await refused_everywhere(web, tokens["access_token"])
        again = await refresh(web[2], client["client_id"], tokens["refresh_token"])
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")

    async def test_revoking_on_one_machine_closes_the_sign_ins_streams_on_every_machine(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        """Issue 24 #9: the revocation reaches each machine holding a stream of the sign-in."""
        client, tokens = await tokens_for(web[0])
        bearer = tokens["access_token"]
        async with (
            open_stream(web[1], bearer=bearer) as (on_second, _),
            open_stream(web[2], bearer=bearer) as (on_third, _),
        ):
            revoked = await web[0].post(
                "/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
            )
            assert revoked.status_code == 200
            await on_second.ends(PROPAGATION_BOUND_SECONDS)
            await on_third.ends(PROPAGATION_BOUND_SECONDS)


class TestLegacySSE:
    async def test_posts_on_other_machines_are_answered_once_each_in_order(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        async with open_stream(web[0], api_key=TEST_API_KEY) as (reader, endpoint):
            for request_id in range(40):
                posted = await web[1 + request_id % 2].post(
                    endpoint, content=rpc("ping", request_id), headers=KEYED
                )
                assert posted.status_code == 202
            answers = [(await reader.next_message())["id"] for _ in range(40)]
        assert answers == list(range(40))

    async def test_posts_on_another_machine_beyond_what_the_session_may_hold_are_429(
        self, machines: Cluster, web: list[httpx.AsyncClient]
    ) -> None:
        """Review 2026-12-07 #1: the POSTing machine refuses for the stream's machine, whose count of
        what the session holds is on Redis; nothing past it is accepted to pile up there."""
        machines.upstream.stalled["/v1/messages/AC0held"] = 20
        headers = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
        held = {"name": "get-message", "arguments": {"id": "AC0held"}}
        try:
            async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (_, endpoint):
                answers = [
                    await web[1].post(
                        endpoint, content=rpc("tools/call", request_id, **held), headers=headers
                    )
                    for request_id in range(INBOX_CAPACITY + 2)
                ]
        finally:
            del machines.upstream.stalled["/v1/messages/AC0held"]
        assert [answer.status_code for answer in answers] == [202] * INBOX_CAPACITY + [429, 429]
        assert answers[-1].headers["retry-after"] == "1"

    async def test_a_post_for_a_closed_stream_is_404_on_every_machine(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        async with open_stream(web[0]) as (_, endpoint):
            pass
        for machine in web:
            posted = await machine.post(endpoint, content=rpc("ping"), headers=KEYED)
            assert posted.status_code == 404

    async def test_another_credential_cannot_post_from_another_machine(
        self, web: list[httpx.AsyncClient]
    ) -> None:
        async with open_stream(web[0]) as (_, endpoint):
            posted = await web[1].post(
                endpoint, content=rpc("ping"), headers={**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
            )
        assert posted.status_code == 404


class TestSDKClient:
    async def test_the_official_client_works_with_its_posts_landing_on_another_machine(
        self, machines: Cluster
    ) -> None:
        """Legacy SSE through the official SDK, the stream on machine 1 and every POST on machine 2."""
        other_port = machines[1].port
        rerouted: list[int] = []

        class ToAnotherMachine(httpx2.AsyncHTTPTransport):
            async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
                if request.method == "POST":
                    request.url = request.url.copy_with(port=other_port)
                    response = await super().handle_async_request(request)
                    rerouted.append(response.status_code)
                    return response
                return await super().handle_async_request(request)

        def factory(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            return httpx2.AsyncClient(headers=headers, timeout=timeout, transport=ToAnotherMachine())

        headers = {"x-openphone-api-key": SANDBOX_API_KEY}
        transport = sse_client(f"{machines[0].url}/sse", headers=headers, httpx_client_factory=factory)
        async with Client(transport, mode="legacy") as client:
            result = await client.call_tool("list-phone-numbers", {})
        assert result.is_error is False
        assert result.structured_content is not None
        assert result.structured_content["phoneNumbers"][0]["id"] == "PNsandboxMain"
        # Every POST (initialize, notifications/initialized, the SDK's tools/list, tools/call) went to
        # the other machine and was accepted there.
        assert rerouted == [202] * 4


class TestCancellation:
    async def test_a_cancellation_posted_to_another_machine_stops_the_call(
        self, machines: Cluster, web: list[httpx.AsyncClient]
    ) -> None:
        machines.upstream.stalled["/v1/messages/AC0cancelme"] = 30
        headers = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY, "mcp-protocol-version": "2025-06-18"}
        call = asyncio.ensure_future(
            web[0].post(
                "/mcp",
                content=rpc("tools/call", 77, name="get-message", arguments={"id": "AC0cancelme"}),
                headers=headers,
            )
        )
        await eventually(
            lambda: _true(any(path == "/v1/messages/AC0cancelme" for path, _ in machines.upstream.arrivals)),
            10,
        )
        cancelled = orjson.dumps(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 77}}
        )
        assert (await web[1].post("/mcp", content=cancelled, headers=headers)).status_code == 202
        response = await call
        assert response.status_code == 204


class TestPacing:
    async def test_one_keys_calls_on_three_machines_keep_one_pace(
        self, machines: Cluster, web: list[httpx.AsyncClient]
    ) -> None:
        """OPENPHONE_RATE_LIMIT=5: paced per process, three machines would send about 13 a second."""
        started = time.monotonic()
        headers = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
        calls = [
            web[index % 3].post(
                "/mcp", content=rpc("tools/call", index, name="list-phone-numbers"), headers=headers
            )
            for index in range(24)
        ]
        answers = await asyncio.gather(*calls)
        assert [answer.status_code for answer in answers] == [200] * 24
        arrivals = sorted(
            at for path, at in machines.upstream.arrivals if path == "/v1/phone-numbers" and at >= started
        )
        assert len(arrivals) == 24
        busiest = max(sum(1 for other in arrivals if at <= other < at + 1.0) for at in arrivals)
        assert busiest <= 7


def test_the_oauth_throttle_counts_across_machines(redis_url: str, tmp_path: Path) -> None:
    with cluster(redis_url, tmp_path, machines=2, OAUTH_RATE_LIMIT="2") as throttled:
        body = {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
        first = httpx.post(f"{throttled[0].url}/register", json=body, headers=throttled.host)
        second = httpx.post(f"{throttled[1].url}/register", json=body, headers=throttled.host)
        third = httpx.post(f"{throttled[0].url}/register", json=body, headers=throttled.host)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (third.status_code, third.json()["error"]) == (429, "too_many_requests")
    assert int(third.headers["retry-after"]) >= 1


async def _true(value: bool) -> bool:
    return value


async def _status(response: Any) -> int:
    return int((await response).status_code)


class TestRedisUnreachable:
    """Redis stopped, paused, or its subscribers cut: nothing hangs, nothing is half-written, no 500,
    and everything recovers by itself."""

    async def test_with_redis_stopped_calls_work_and_the_token_endpoints_answer_503(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        client, tokens = await tokens_for(web[0])
        keyed = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
        async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, endpoint):
            redis_server.stop()
            try:
                assert await tools_list(web[1], tokens["access_token"]) == 200
                call = await web[2].post(
                    "/mcp", content=rpc("tools/call", name="list-phone-numbers"), headers=keyed
                )
                assert call.status_code == 200
                refreshed = await refresh(web[1], client["client_id"], tokens["refresh_token"])
                assert (refreshed.status_code, refreshed.json()["error"]) == (503, "temporarily_unavailable")
                assert refreshed.headers["retry-after"] == "2"
                revoked = await web[2].post(
                    "/revoke", data={"token": tokens["refresh_token"], "client_id": client["client_id"]}
                )
                assert (revoked.status_code, revoked.json()["error"]) == (503, "temporarily_unavailable")
                remote = await web[1].post(endpoint, content=rpc("ping", 5), headers=keyed)
                assert (remote.status_code, remote.headers["retry-after"]) == (503, "1")

                async def local_post_accepted() -> bool:
                    return await _status(web[0].post(endpoint, content=rpc("ping", 6), headers=keyed)) == 202

                await eventually(local_post_accepted, 5)
                assert (await reader.next_message())["id"] == 6
                ready = await web[0].get("/readyz")
                assert (ready.status_code, ready.json()["checks"]["redis"]) == (503, False)
                opened = await web[1].get("/sse", headers={"x-openphone-api-key": SANDBOX_API_KEY})
                assert opened.status_code == 503
            finally:
                redis_server.start()

            async def all_ready() -> bool:
                return [await _status(machine.get("/readyz")) for machine in web] == [200, 200, 200]

            await eventually(all_ready, 10)
            # The refresh tried during the outage left the token usable.
            again = await refresh(web[2], client["client_id"], tokens["refresh_token"])
            assert again.status_code == 200

            async def remote_post_accepted() -> bool:
                return await _status(web[1].post(endpoint, content=rpc("ping", 7), headers=keyed)) == 202

            await eventually(remote_post_accepted, 10)
            assert (await reader.next_message())["id"] == 7

    async def test_with_redis_paused_a_refresh_fails_fast_and_the_token_stays_usable(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        client, tokens = await tokens_for(web[0])
        redis_server.pause()
        try:
            refreshed = await refresh(web[1], client["client_id"], tokens["refresh_token"])
            ready = await web[2].get("/readyz")
        finally:
            redis_server.resume()
        assert (refreshed.status_code, refreshed.json()["error"]) == (503, "temporarily_unavailable")
        assert ready.status_code == 503
        again = await refresh(web[1], client["client_id"], tokens["refresh_token"])
        assert again.status_code == 200
        assert (await refresh(web[0], client["client_id"], again.json()["refresh_token"])).status_code == 200

    async def test_a_send_posted_while_redis_is_paused_is_never_sent_twice(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        """A PUBLISH that timed out may still run once Redis wakes: 503 means at most once, never twice."""
        keyed = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
        arguments = {"from": "+14155550100", "to": "+14155550123", "content": "paused"}
        sent_before = sum(1 for path, _ in machines.upstream.arrivals if path == "/v1/messages")
        async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, endpoint):
            redis_server.pause()
            try:
                call = rpc("tools/call", 41, name="send-message", arguments=arguments)
                posted = await web[1].post(endpoint, content=call, headers=keyed)
            finally:
                redis_server.resume()
            assert posted.status_code == 503
            answered: list[int] = []
            with anyio.move_on_after(3):  # a late PUBLISH runs the call within this
                while True:
                    answered.append((await reader.next_message())["id"])
        sends = sum(1 for path, _ in machines.upstream.arrivals if path == "/v1/messages") - sent_before
        assert (answered, sends) in (([], 0), ([41], 1))

    async def test_a_revocation_missed_while_subscribers_were_cut_is_read_back(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        """A revocation published to nobody (only written to the index) is applied on re-subscribe."""
        _, tokens = await tokens_for(web[0])
        family = opened_claims(machines, tokens["access_token"]).fam
        redis = redis_server.client()
        member = RevocationTags(ServerKeys((decode_secret_key(TEST_SECRET_KEY),))).tag(f"f:{family}")
        redis.zadd("oauth:rv:index", {member: int((time.time() + 600) * 1000)})
        assert await tools_list(web[1], tokens["access_token"]) == 200
        redis.client_kill_filter(_type="pubsub")
        await refused_everywhere(web, tokens["access_token"])

    async def test_streams_keep_receiving_after_their_subscriber_connection_is_cut(
        self, machines: Cluster, web: list[httpx.AsyncClient], redis_server: RedisServer
    ) -> None:
        keyed = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
        async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, endpoint):
            redis_server.client().client_kill_filter(_type="pubsub")

            async def accepted() -> bool:
                return await _status(web[2].post(endpoint, content=rpc("ping", 9), headers=keyed)) == 202

            await eventually(accepted, 10)
            assert (await reader.next_message())["id"] == 9


class TestMachineLoss:
    async def test_a_stream_on_a_killed_machine_is_404_elsewhere_and_a_new_one_opens(
        self, machines: Cluster, web: list[httpx.AsyncClient]
    ) -> None:
        keyed = {**JSON, "x-openphone-api-key": SANDBOX_API_KEY}
        try:
            async with open_stream(web[2], api_key=SANDBOX_API_KEY) as (_, endpoint):
                machines[2].kill()

                async def gone() -> bool:
                    return await _status(web[0].post(endpoint, content=rpc("ping"), headers=keyed)) == 404

                await eventually(gone, 5)
        except httpx.TransportError:
            pass  # the killed machine's stream breaks as the test leaves it
        finally:
            machines[2].start()
        async with open_stream(web[0], api_key=SANDBOX_API_KEY) as (reader, new_endpoint):
            assert (await web[1].post(new_endpoint, content=rpc("ping", 3), headers=keyed)).status_code == 202
            assert (await reader.next_message())["id"] == 3


def opened_claims(machines: Cluster, access_token: str) -> Claims:
    """What the machines sealed into a token (the tests hold the same SECRET_KEYS)."""
    keys = ServerKeys((decode_secret_key(TEST_SECRET_KEY),))
    return Sealer(keys, machines.public_url).open(access_token, TokenType.ACCESS)
