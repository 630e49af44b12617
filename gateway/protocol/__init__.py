"""The MCP protocol core, transport-agnostic: JSON-RPC 2.0, revisions and their envelope, the method
dispatcher (`core`), and the calls in flight. Imports point down only: to operations, the tools, and
the errors.
"""
