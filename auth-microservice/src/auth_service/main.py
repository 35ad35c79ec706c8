"""The FastAPI application: `create_app()` builds it, the lifespan owns its clients."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import OperationalError

from auth_service.database import (
    POSTGRES,
    POSTGRES_RETRY_AFTER_SECONDS,
    PostgresProbe,
    create_database_engine,
    create_session_factory,
)
from auth_service.deps import Resources
from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.login import api as login_api
from auth_service.login.service import LoginService
from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.rate_limits import RateLimits
from auth_service.sessions import api as sessions_api
from auth_service.sessions.service import SessionService
from auth_service.settings import AuthSettings
from auth_service.users import api as users_api
from auth_service.users.service import UserService
from auth_validator import TokenVerifier, install_token_verifier
from http_kit import (
    answer_unavailable,
    create_service_app,
    install_resources,
    operations_router,
    settle_heap,
)

PREFIX = "/auth/api"
log = structlog.get_logger(__name__)


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    """Builds the app; settings errors surface here, before the server accepts traffic."""
    settings = settings or AuthSettings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = _open_resources(settings, metrics)
        install_resources(app, resources)
        log.info("auth_service_started", app_env=settings.app_env)
        settle_heap()
        try:
            yield
        finally:
            resources.firebase.close()
            resources.engine.dispose()
            log.info("auth_service_stopped")

    app = create_service_app(
        prefix=PREFIX,
        title="Auth service",
        description="Users, login, sessions (rotating refresh tokens) and access tokens (JWT).",
        version="1.0.0",
        lifespan=lifespan,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        request_durations=metrics.requests,
    )
    # A lost or refused database connection is a 503 the client may retry, not a 500.
    answer_unavailable(
        app, {OperationalError: POSTGRES}, retry_after_seconds=POSTGRES_RETRY_AFTER_SECONDS
    )
    install_token_verifier(app, TokenVerifier(settings.jwt))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            # Bearer tokens, not cookies; and the browser may read when to retry after a 429.
            allow_credentials=False,
            expose_headers=["Retry-After"],
        )
    operations = operations_router(
        Resources,
        retry_after_seconds=POSTGRES_RETRY_AFTER_SECONDS,
        readiness="Postgres answers a query",
    )
    for router in (operations, users_api.router, login_api.router, sessions_api.router):
        app.include_router(router, prefix=PREFIX)
    return app


def _open_resources(settings: AuthSettings, metrics: Metrics) -> Resources:
    engine = create_database_engine(
        settings.sqlalchemy_url,
        pool_size=settings.database_pool_size,
        call_timeout=settings.database_call_timeout,
    )
    hasher = PasswordHasher(settings, metrics.registry)
    rate_limits = RateLimits(settings)
    firebase = FirebaseTokenMinter(settings)
    sessions_service = SessionService(firebase, rate_limits, settings, metrics)
    return Resources(
        engine=engine,
        sessions=create_session_factory(engine),
        firebase=firebase,
        metrics=metrics,
        users=UserService(hasher, rate_limits, metrics),
        login=LoginService(hasher, rate_limits, sessions_service, metrics),
        sessions_service=sessions_service,
        readiness_probes={"postgres": PostgresProbe(engine)},
    )
