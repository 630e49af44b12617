"""`Mcp-Session-Id` as a signed memo of what a client declared (`gateway/transports/features_memo.py`)."""

from __future__ import annotations

import pytest

from gateway.keys import ServerKeys
from gateway.protocol.client_features import NO_FEATURES, ClientFeatures
from gateway.transports.features_memo import FeaturesMemo

MEMO = FeaturesMemo(ServerKeys((b"m" * 32,)))
APPS_AND_URL = ClientFeatures(form=True, url=True, apps=True)


def test_a_declaration_reads_back_for_the_same_credential() -> None:
    session_id = MEMO.issue(APPS_AND_URL, "credential-1")
    assert MEMO.read(session_id, "credential-1") == APPS_AND_URL


def test_another_credential_reads_no_features() -> None:
    assert MEMO.read(MEMO.issue(APPS_AND_URL, "credential-1"), "credential-2") == NO_FEATURES


@pytest.mark.parametrize("session_id", [None, "", "forged", "WyJhIiwiYiIsImF1Il0.forged"])
def test_an_unsigned_or_missing_id_reads_no_features(session_id: str | None) -> None:
    assert MEMO.read(session_id, "credential-1") == NO_FEATURES


def test_a_client_declaring_neither_urls_nor_views_gets_no_session() -> None:
    assert MEMO.issue(ClientFeatures(form=True), "credential-1") is None
