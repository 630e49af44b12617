"""The catalogue's `inputSchema` and `outputSchema`, generated ahead of time into `schemas.json`.

pydantic generates them from the tool models in about 40 ms, and every start generated them again,
though they change only with the code. `schemas.json` holds them instead, so the models themselves are
built only when a tool is first called (`defer_build` on `Arguments` and `Wire`).
tests/tools/test_schemas.py fails whenever the file differs from what the models generate;
`python -m tools.schemas` rewrites it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import orjson

from tools.registry import Tool

SCHEMAS_PATH: Final = Path(__file__).with_name("schemas.json")


def generated_schemas(tools: Sequence[Tool[Any, Any]]) -> bytes:
    """What `schemas.json` must hold for `tools`: each tool's schemas as its models generate them now."""
    schemas = {tool.name: tool.schemas() for tool in tools}
    return orjson.dumps(schemas, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def published_schemas() -> dict[str, dict[str, Any]]:
    """The schemas in `schemas.json`, by tool name."""
    schemas: dict[str, dict[str, Any]] = orjson.loads(SCHEMAS_PATH.read_bytes())
    return schemas


if __name__ == "__main__":
    from tools.catalog import OPENPHONE_TOOLS

    SCHEMAS_PATH.write_bytes(generated_schemas(OPENPHONE_TOOLS))
