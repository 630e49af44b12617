"""Assertions shared by the sandbox tests: the documented error envelope, read exactly."""

from __future__ import annotations

import re
from typing import Any, Final

import httpx

DOCS_URL: Final = "https://openphone.com/docs"
TRACE: Final = re.compile(r"[0-9]{19}")


def error_body(response: httpx.Response, status: int) -> dict[str, Any]:
    """The error body of `response` (which must have `status`); its 19-digit trace is checked and removed."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert TRACE.fullmatch(body.pop("trace"))
    assert body["status"] == status
    assert body["docs"] == DOCS_URL
    return body


def broken_rules(response: httpx.Response, code: str) -> list[tuple[str, str]]:
    """The `(path, schema type)` of each `errors[]` item of a 400 with `code`."""
    body = error_body(response, 400)
    assert body["code"] == code
    return [(item["path"], item["schema"]["type"]) for item in body["errors"]]
