# The gateway's image: what `fly deploy` builds (fly.toml beside it), and what any container host runs.
#
# Two stages. The builder installs the locked dependencies and the project (a wheel, not editable)
# into a virtualenv at /opt/venv; the final image copies that virtualenv and nothing else, so no
# source tree, pip cache or build tool ships. Every dependency has a manylinux wheel, so neither stage needs a compiler.
# tests/test_deploy.py holds this file, .dockerignore and fly.toml to each other.

FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# The locked set, exactly: every file is checked against the lock's hashes, and nothing is resolved
# again, so the image runs what the tests ran (requirements/ is exported from uv.lock). Copied before
# the source, this layer is rebuilt only when the lock changes.
COPY requirements/runtime.txt requirements/build.txt ./requirements/
RUN pip install --require-hashes --no-deps -r requirements/runtime.txt
# The locked build backend goes into the builder's own Python, not the image's venv.
RUN /usr/local/bin/pip install --require-hashes --no-deps -r requirements/build.txt
# pyproject.toml names README.md as the package's readme, so the build needs it too.
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY oauth ./oauth
COPY tools ./tools
COPY landing ./landing
RUN /usr/local/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels .
RUN pip install --no-deps /wheels/*.whl && pip check

FROM python:3.11-slim

# A fixed, unprivileged uid (no login shell, no home) that no host account is likely to share.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin gateway

COPY --from=builder /opt/venv /opt/venv

# No FORWARDED_ALLOW_IPS here: with a plain `docker run`, any peer on the bridge or pod network
# could otherwise name its own client address. fly.toml trusts Fly's proxy (with Fly-Client-IP);
# elsewhere, set it to your own proxy's address.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    GATEWAY_ENV=production

USER 10001:10001
EXPOSE 8080
# uvicorn drains on SIGTERM: open SSE streams end cleanly and in-flight calls get 25 s to finish.
STOPSIGNAL SIGTERM

# For plain `docker run`; Fly ignores it and runs the checks in fly.toml instead.
HEALTHCHECK --interval=15s --timeout=2s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]

# Exec form: uvicorn is PID 1 and receives SIGTERM itself (a shell would swallow it).
CMD ["openphone-mcp", "serve", "--host", "0.0.0.0", "--port", "8080"]
