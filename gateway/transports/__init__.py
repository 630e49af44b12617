"""The MCP transports: Streamable HTTP at `/mcp`, legacy HTTP+SSE at `/sse` + `/messages`.

Each reads an HTTP request, authenticates it through a `Gate` the app hands in, and passes JSON-RPC
messages to the protocol core; `session_bus` carries legacy POSTs to the process holding the stream.
Imports point down only: to the protocol core, operations, and the settings, keys and errors.
"""
