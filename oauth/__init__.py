"""The OAuth 2.1 authorization server (discovery, registration, consent, grants, sealed tokens)."""
