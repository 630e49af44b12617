"""The ASGI gateway: settings, CLI, app factory, MCP protocol core, transports and the auth gate."""
