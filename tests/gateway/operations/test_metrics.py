"""The upstream histogram's labels stay a bounded set whatever status OpenPhone answers."""

from __future__ import annotations

import pytest

from gateway.operations.metrics import Metrics

SERIES = "gateway_upstream_request_seconds_count"


@pytest.mark.parametrize(("status", "label"), [(200, "200"), (429, "429"), (None, "none")])
def test_a_registered_status_or_no_answer_keeps_its_own_label(status: int | None, label: str) -> None:
    metrics = Metrics()
    metrics.observe_upstream("GET", status, 0.01)
    assert metrics.registry.get_sample_value(SERIES, {"method": "GET", "status": label}) == 1


def test_statuses_outside_the_registry_share_the_other_label() -> None:
    metrics = Metrics()
    for status in (299, 599, 799, 999):
        metrics.observe_upstream("GET", status, 0.01)
    assert metrics.registry.get_sample_value(SERIES, {"method": "GET", "status": "other"}) == 4
    assert metrics.registry.get_sample_value(SERIES, {"method": "GET", "status": "799"}) is None
