"""The HTTP edge: what every request passes before it meets a transport.

The Host and Origin checks, the security headers, the client address behind a proxy, the bound on
request heads, and the auth gate that turns credentials into a `Principal`. Imports point down
only: to the protocol core (the principal), operations, and the settings, keys and errors.
"""
