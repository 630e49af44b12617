"""The error catalogue (tools/sandbox/errors.py) against the spec it copies, and the envelope it renders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.spec_check import load_spec
from tools.sandbox.app import ROUTES, Operation
from tools.sandbox.errors import (
    CONTACT_ERRORS,
    MESSAGE_ERRORS,
    ErrorKind,
    InvalidRequest,
    NotFound,
    RateLimited,
    error_body,
)

SPEC: dict[str, Any] = load_spec()


def _documented(operation: Operation) -> dict[int, dict[str, Any]]:
    responses = SPEC["paths"][operation.path][operation.method.lower()]["responses"]
    return {
        int(status): response["content"]["application/json"]["schema"]["properties"]
        for status, response in responses.items()
        if not status.startswith("2")
    }


@pytest.mark.parametrize("operation", ROUTES, ids=lambda operation: f"{operation.method} {operation.path}")
def test_every_documented_error_has_the_specs_code_title_and_description(operation: Operation) -> None:
    for status, properties in _documented(operation).items():
        kind = operation.family.kind(status)
        description = properties.get("description", {}).get("const")
        assert (kind.code, kind.title, kind.description) == (
            properties["code"]["const"],
            properties["title"]["const"],
            description,
        ), status


def test_the_sandbox_serves_every_operation_of_the_spec_but_webhooks() -> None:
    specified = {
        (method.upper(), path) for path, operations in SPEC["paths"].items() for method in operations
    }
    webhooks = {(method, path) for method, path in specified if path.startswith("/v1/webhooks")}
    assert {(operation.method, operation.path) for operation in ROUTES} == specified - webhooks


def test_an_undocumented_status_gets_a_generic_kind() -> None:
    assert MESSAGE_ERRORS.kind(503) == ErrorKind("0200503", "Service Unavailable", "Service Unavailable")


def test_a_body_carries_errors_and_description_only_when_there_are_some() -> None:
    assert error_body(MESSAGE_ERRORS, NotFound(), "1") == {
        "message": "Message not found",
        "code": "0200404",
        "status": 404,
        "docs": "https://openphone.com/docs",
        "title": "Not Found",
        "trace": "1",
    }
    item = {"path": "/x", "message": "m", "schema": {"type": "string"}}
    body = error_body(CONTACT_ERRORS, InvalidRequest("Invalid request", [item]), "2")
    assert (body["errors"], body["description"]) == ([item], "Invalid Custom Field Item")


def test_rate_limited_carries_retry_after() -> None:
    error = RateLimited()
    assert (error.status, dict(error.headers)) == (429, {"Retry-After": "1"})
