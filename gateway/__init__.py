"""The ASGI gateway: settings, CLI, app factory, MCP protocol core, transports and the auth gate."""

# The distribution's version (pyproject.toml reads it from here), named to MCP clients in serverInfo:
# reading it back from the installed metadata took 2-6 ms of every start.
__version__ = "0.1.0"
