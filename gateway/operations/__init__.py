"""Running the gateway: JSON logs and the access line with request ids, metrics, health and
readiness, the graceful drain, and process tuning. Every layer may use these; they use none.
"""
