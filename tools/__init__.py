"""The OpenPhone side: the tool registry, tool handlers, the API client and the sandbox."""
