"""Shared pieces of tool input models: strict objects, time windows, page tokens and ids.

Inputs are camelCase like OpenPhone's API, reject unknown fields (a misspelt argument is an error the
model can fix, not a silently ignored filter) and carry descriptions an AI can choose by.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tools.resources import CAMEL_CASE


class Arguments(BaseModel):
    """Base of every tool input model (CAMEL_CASE); an unknown argument is an error."""

    model_config = ConfigDict(**CAMEL_CASE, extra="forbid")


class NoArguments(Arguments):
    """The input of a tool that takes none."""


Instant = Annotated[
    AwareDatetime,
    Field(description="An ISO 8601 date-time with a timezone, e.g. 2026-11-01T09:00:00Z."),
]
PageToken = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        description="The nextPageToken of a previous call, to get the next page.",
    ),
]


class PageOf50(Arguments):
    """A page of a list OpenPhone serves at most 50 at a time (contacts, users: notes §3.3)."""

    max_results: int = Field(default=20, ge=1, le=50, description="Page size (1-50).")
    page_token: PageToken | None = None


OpaqueId = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
]
UserId = Annotated[
    str,
    Field(pattern=r"^US[A-Za-z0-9_-]+$", max_length=64, description="An OpenPhone user id (US…)."),
]


def iso(instant: AwareDatetime | None) -> str | None:
    """An instant as OpenPhone's ISO 8601 UTC form, e.g. 2026-11-01T09:00:00Z."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
