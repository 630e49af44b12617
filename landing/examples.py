"""Parameter tables and example calls, derived from a tool's JSON Schema so the docs cannot drift.

Everything here is a pure function of the `inputSchema` that `tools/list` serves: the landing page
shows what a client will be held to, and its example arguments are values that schema accepts
(tests validate each one against the tool's input model). An `examples` entry in the schema wins;
otherwise a realistic value is chosen by the parameter's name, then by its type and limits.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

SANDBOX_KEY_SHOWN: Final = "sandbox-demo-key"
ENV_KEY_SHOWN: Final = "$OPENPHONE_API_KEY"
# Values a reader recognises: the sandbox's own numbers and the kinds of text the tools send.
NAMED_EXAMPLES: Final[Mapping[str, Any]] = {
    "from": "+14155550100",
    "inbox": "+14155550100",
    "inboxes": "+14155550100",
    "to": "+14155550123",
    "participant": "+14155550123",
    "content": "Hello from the gateway",
    "firstName": "Jane",
    "lastName": "Cooper",
    "company": "Acme Inc.",
    "role": "Head of Sales",
    "externalId": "crm-1042",
    "externalIds": "crm-1042",
}
EXAMPLE_DATE_TIME: Final = "2026-11-01T09:00:00Z"
EXAMPLE_ID_SUFFIX: Final = "123abc456def"
_ID_PREFIX_IN_DESCRIPTION: Final = re.compile(r"\(([A-Z]{2})…\)")
_ID_PREFIX_IN_PATTERN: Final = re.compile(r"^\^([A-Z]{2})\[")


@dataclass(frozen=True, slots=True)
class Parameter:
    """One row of a tool's parameter table."""

    name: str
    type: str
    is_required: bool
    limits: tuple[str, ...]
    description: str


def parameter_table(schema: Mapping[str, Any]) -> list[Parameter]:
    """The top-level parameters of an object schema: required ones first, then in schema order."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    defs: Mapping[str, Any] = schema.get("$defs", {})
    rows = [
        Parameter(
            name=name,
            type=type_label(spec, defs),
            is_required=name in required,
            limits=limits_of(spec, defs),
            description=description_of(spec),
        )
        for name, spec in properties.items()
    ]
    return sorted(rows, key=lambda row: not row.is_required)


def type_label(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """A short type such as `string`, `string (date-time)`, `array of string` or `EmailEntry`.

    A `null` branch of `anyOf` is dropped: it only says the parameter may be left out.
    """
    branches = _non_null_branches(spec)
    if len(branches) > 1:
        return " | ".join(type_label(branch, defs) for branch in branches)
    one = branches[0]
    if "$ref" in one:
        return str(one["$ref"]).rsplit("/", 1)[-1]
    kind = one.get("type", "any")
    if isinstance(kind, list):
        return " | ".join(str(part) for part in kind if part != "null")
    if kind == "array":
        return f"array of {type_label(one.get('items', {}), defs)}"
    if "format" in one:
        return f"{kind} ({one['format']})"
    return str(kind)


def limits_of(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> tuple[str, ...]:
    """The rules a value must follow, in words: lengths, ranges, patterns, allowed values, default."""
    branches = _non_null_branches(spec)
    limits: list[str] = []
    if len(branches) == 1:
        one = branches[0]
        limits += _own_limits(one)
        items = one.get("items")
        if one.get("type") == "array" and isinstance(items, Mapping) and "$ref" not in items:
            limits += [f"each: {limit}" for limit in _own_limits(items)]
    default = spec.get("default")
    if default is not None:
        limits.append(f"default {json.dumps(default)}")
    return tuple(limits)


def description_of(spec: Mapping[str, Any]) -> str:
    """The parameter's description, or its non-null branch's when only that one has one."""
    if "description" in spec:
        return str(spec["description"])
    for branch in _non_null_branches(spec):
        if "description" in branch:
            return str(branch["description"])
    return ""


def example_arguments(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments the schema accepts: its first `examples` entry if it has one.

    Otherwise every required parameter, then the optional ones with a well-known name (so an update
    tool, whose only required parameter is an id, still shows a field being changed).
    """
    examples = schema.get("examples")
    if isinstance(examples, list) and examples and isinstance(examples[0], dict):
        return dict(examples[0])
    properties: Mapping[str, Any] = schema.get("properties", {})
    defs: Mapping[str, Any] = schema.get("$defs", {})
    required = [name for name in schema.get("required", ()) if name in properties]
    named = [name for name in properties if name not in required and name in NAMED_EXAMPLES]
    return {name: example_value(name, properties[name], defs) for name in (*required, *named)}


def example_value(name: str, spec: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """A realistic value for the parameter `name`: schema examples, then the name, then the type."""
    if isinstance(spec.get("examples"), list) and spec["examples"]:
        return spec["examples"][0]
    one = _non_null_branches(spec)[0]
    if "$ref" in one:
        return example_arguments(_resolve(one, defs))
    kind = one.get("type")
    if kind == "array":
        item = example_value(name, one.get("items", {}), defs)
        return [item] * max(1, int(one.get("minItems", 1)))
    if name in NAMED_EXAMPLES:
        return NAMED_EXAMPLES[name]
    if "const" in one:
        return one["const"]
    if "enum" in one:
        return one["enum"][0]
    if kind == "object":
        return example_arguments(one)
    if kind == "string":
        return _example_string(name, one, description_of(spec))
    if kind in ("integer", "number"):
        return _example_number(spec, one)
    if kind == "boolean":
        return False
    return None


def tools_call_request(name: str, arguments: Mapping[str, Any], request_id: int = 1) -> dict[str, Any]:
    """The JSON-RPC `tools/call` request for `name` with `arguments`."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": dict(arguments)},
    }


def shown_api_key(is_sandbox: bool) -> str:
    """The key examples carry: the public demo key in the sandbox, else the reader's own, from the shell."""
    return SANDBOX_KEY_SHOWN if is_sandbox else ENV_KEY_SHOWN


def pretty_json(value: Any) -> str:
    """JSON for reading on the page: indented, non-ASCII kept as is."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def curl_command(mcp_url: str, request: Mapping[str, Any], api_key: str) -> str:
    """The curl command that sends `request` to `mcp_url` with `api_key`, one option per line.

    The key goes in double quotes when it names a shell variable (so the shell expands it) and in
    single quotes otherwise; the JSON body is single-quoted with shell escaping.
    """
    body = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
    key_header = f"x-openphone-api-key: {api_key}"
    quoted_key = f'"{key_header}"' if api_key.startswith("$") else shlex.quote(key_header)
    lines = [
        f"curl -s {shlex.quote(mcp_url)}",
        "-H 'content-type: application/json'",
        "-H 'accept: application/json, text/event-stream'",
        f"-H {quoted_key}",
        f"-d {shlex.quote(body)}",
    ]
    return " \\\n  ".join(lines)


def _non_null_branches(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    for combinator in ("anyOf", "oneOf"):
        if combinator in spec:
            branches = [branch for branch in spec[combinator] if branch.get("type") != "null"]
            return branches or [spec]
    return [spec]


def _resolve(ref: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    target: Mapping[str, Any] = defs.get(str(ref["$ref"]).rsplit("/", 1)[-1], {})
    return target


def _own_limits(spec: Mapping[str, Any]) -> list[str]:
    limits = []
    length = _range(spec.get("minLength"), spec.get("maxLength"), "characters")
    if length:
        limits.append(length)
    value_range = _range(spec.get("minimum"), spec.get("maximum"), "")
    if value_range:
        limits.append(value_range)
    items = _range(spec.get("minItems"), spec.get("maxItems"), "items")
    if items:
        limits.append(items)
    if "pattern" in spec:
        limits.append(f"pattern {spec['pattern']}")
    if "const" in spec:
        limits.append(f"one of: {json.dumps(spec['const'])}")
    if "enum" in spec:
        limits.append("one of: " + ", ".join(json.dumps(value) for value in spec["enum"]))
    return limits


def _range(low: Any, high: Any, unit: str) -> str:
    suffix = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low} to {high}{suffix}"
    if low is not None:
        return f"at least {low}{suffix}"
    if high is not None:
        return f"at most {high}{suffix}"
    return ""


def _example_string(name: str, spec: Mapping[str, Any], description: str) -> str:
    if spec.get("format") == "date-time":
        return EXAMPLE_DATE_TIME
    if name == "id" or name.endswith("Id"):
        prefix = _ID_PREFIX_IN_DESCRIPTION.search(description) or _ID_PREFIX_IN_PATTERN.search(
            str(spec.get("pattern", ""))
        )
        return (prefix.group(1) if prefix else "") + EXAMPLE_ID_SUFFIX
    text = "example"
    minimum = int(spec.get("minLength", 0))
    return text.ljust(minimum, "x")


def _example_number(spec: Mapping[str, Any], branch: Mapping[str, Any]) -> int | float:
    for candidate in (spec.get("default"), branch.get("minimum")):
        if isinstance(candidate, int | float):
            return candidate
    return 1
