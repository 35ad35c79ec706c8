# One image for the four Python services; each container picks its command
# (`auth-service serve`, `chat-service serve`, `aggregator run`, `aggregated-consumer run`,
# and the two `migrate` commands). One image instead of four keeps a build, a cache and a
# tag per change, and the services share almost every dependency anyway.
#
# A second target, `firebase-auth-emulator`, packages the Firebase Auth emulator for the
# compose and Kubernetes dev stacks with the exact firebase-tools version that devstack locks.
#
#   docker build -t chat-app:dev .
#   docker build -t chat-firebase-auth-emulator:dev --target firebase-auth-emulator .
#
# Behind a TLS-intercepting proxy, give the build its CA certificates as the optional secret
# `extra_ca` (never copied into an image layer):
#   docker build --secret id=extra_ca,src=/path/to/proxy-ca.pem -t chat-app:dev .
#
# No `# syntax=` line: Docker's built-in builder (20.10 and later) understands every feature
# used here, and a syntax line would make each build fetch a frontend image from a registry.

# Same uv as the Makefile installs, so the lock is read by the version that wrote it.
ARG UV_VERSION=0.13.9
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv


# --- Firebase Auth emulator (development only) --------------------------------------------
FROM ${NODE_IMAGE} AS firebase-auth-emulator
WORKDIR /opt/firebase
# devstack's package.json and lock pin firebase-tools; `npm ci` installs exactly that.
COPY devstack/package.json devstack/package-lock.json ./
COPY deploy/with-extra-ca.sh /usr/local/bin/with-extra-ca
RUN --mount=type=secret,id=extra_ca \
    with-extra-ca npm ci --no-audit --no-fund \
    && npm cache clean --force \
    && chown -R node:node /opt/firebase
COPY deploy/firebase.json ./firebase.json
USER node
EXPOSE 9099
CMD ["./node_modules/.bin/firebase", "emulators:start", "--only", "auth", "--project", "demo-chat"]


# --- build: resolve and install into /app/.venv -------------------------------------------
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
COPY deploy/with-extra-ca.sh /usr/local/bin/with-extra-ca
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Third-party dependencies first: this layer is rebuilt only when the lock or a member's
# pyproject changes, not on every source edit. uv needs every member's pyproject to load the
# workspace, even the ones it will not install (devstack).
COPY pyproject.toml uv.lock ./
COPY devstack/pyproject.toml devstack/
COPY chat-events/pyproject.toml chat-events/
COPY observability/pyproject.toml observability/
COPY service-settings/pyproject.toml service-settings/
COPY http-kit/pyproject.toml http-kit/
COPY stream-kit/pyproject.toml stream-kit/
COPY auth-validator/pyproject.toml auth-validator/
COPY auth-microservice/pyproject.toml auth-microservice/
COPY chat-microservice/pyproject.toml chat-microservice/
COPY aggregator-service/pyproject.toml aggregator-service/
COPY aggregated-messages-consumer/pyproject.toml aggregated-messages-consumer/
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=extra_ca \
    with-extra-ca uv sync --frozen --no-dev --no-install-workspace \
        --package auth-microservice \
        --package chat-microservice \
        --package aggregator-service \
        --package aggregated-messages-consumer

# Then our own packages, installed as wheels (not editable) so the runtime stage needs no
# source tree. --frozen: the image gets exactly what uv.lock says or the build fails.
COPY chat-events/ chat-events/
COPY observability/ observability/
COPY service-settings/ service-settings/
COPY http-kit/ http-kit/
COPY stream-kit/ stream-kit/
COPY auth-validator/ auth-validator/
COPY auth-microservice/ auth-microservice/
COPY chat-microservice/ chat-microservice/
COPY aggregator-service/ aggregator-service/
COPY aggregated-messages-consumer/ aggregated-messages-consumer/
RUN --mount=type=cache,target=/root/.cache/uv --mount=type=secret,id=extra_ca \
    with-extra-ca uv sync --frozen --no-dev --no-editable \
        --package auth-microservice \
        --package chat-microservice \
        --package aggregator-service \
        --package aggregated-messages-consumer


# --- runtime ------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
# Root-owned and read-only for the service user: nothing in the image is writable at run time.
COPY --from=build /app/.venv /app/.venv
COPY deploy/healthcheck.py /app/healthcheck.py
USER 10001:10001
EXPOSE 8000 9000 9101 9102
# No HEALTHCHECK here: each container runs a different command with its own health URL, so
# compose and Kubernetes declare the check per service (`python /app/healthcheck.py URL`).
CMD ["auth-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
