"""The FastAPI application: `create_app()` builds it, the lifespan owns its clients."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from prometheus_client import CollectorRegistry

from auth_service import health
from auth_service.database import (
    create_database_engine,
    create_session_factory,
    install_database_error_handler,
)
from auth_service.deps import Resources
from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.login import api as login_api
from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.rate_limits import RateLimits
from auth_service.settings import AuthSettings
from auth_service.users import api as users_api
from auth_validator import (
    TokenVerifier,
    install_error_handlers,
    install_token_verifier,
    limit_request_bodies,
    limit_request_headers,
)

PREFIX = "/auth/api"
log = structlog.get_logger(__name__)


def create_app(settings: AuthSettings | None = None) -> FastAPI:
    """Builds the app; settings errors surface here, before the server accepts traffic."""
    settings = settings or AuthSettings()
    metrics = Metrics(CollectorRegistry())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = _open_resources(settings, metrics)
        app.state.resources = resources
        log.info("auth_service_started", app_env=settings.app_env)
        try:
            yield
        finally:
            resources.firebase.close()
            resources.engine.dispose()
            log.info("auth_service_stopped")

    app = FastAPI(
        title="Auth service",
        description="Users, login and JWT access tokens for the chat.",
        version="1.0.0",
        lifespan=lifespan,
        docs_url=f"{PREFIX}/docs",
        openapi_url=f"{PREFIX}/openapi.json",
        redoc_url=None,
        redirect_slashes=False,
    )
    install_error_handlers(app)
    limit_request_bodies(app, settings.max_body_bytes)
    limit_request_headers(app, settings.max_header_bytes)  # outermost: checked first
    install_database_error_handler(app)
    install_token_verifier(app, TokenVerifier(settings.jwt))
    app.middleware("http")(metrics.observe_request)
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
    for router in (health.router, users_api.router, login_api.router):
        app.include_router(router, prefix=PREFIX)
    _serve_docs_with_trailing_slash(app)
    return app


def _serve_docs_with_trailing_slash(app: FastAPI) -> None:
    """`/auth/api/docs/` answers like `/auth/api/docs` (every path works both ways)."""

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=f"{PREFIX}/openapi.json", title=app.title)

    app.add_api_route(f"{PREFIX}/docs/", docs, include_in_schema=False)


def _open_resources(settings: AuthSettings, metrics: Metrics) -> Resources:
    engine = create_database_engine(settings.sqlalchemy_url, pool_size=settings.database_pool_size)
    return Resources(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        hasher=PasswordHasher(settings, metrics.registry),
        rate_limits=RateLimits(settings),
        firebase=FirebaseTokenMinter(settings),
        metrics=metrics,
    )
