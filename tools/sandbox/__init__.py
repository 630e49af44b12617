"""A faithful in-process fake of the OpenPhone v1 API, held to openapi-v1.json by the tests.

`create_sandbox_app(state)` serves the seeded workspace of data.py with the spec's validation rules
and error bodies, and `state.faults` injects latency, 429s, error statuses, hangs and malformed
bodies. It accepts one key, `SANDBOX_API_KEY`, and answers any other as OpenPhone answers a bad key.
"""

from tools.sandbox.app import SANDBOX_API_KEY, create_sandbox_app
from tools.sandbox.faults import Fault
from tools.sandbox.state import SandboxState

__all__ = ["SANDBOX_API_KEY", "Fault", "SandboxState", "create_sandbox_app"]
