"""The FastAPI app: clients are created in the lifespan and handed to the services."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI, Request, Response

from auth_validator import (
    JwtSettings,
    TokenVerifier,
    install_error_handlers,
    install_token_verifier,
    limit_request_bodies,
    limit_request_headers,
    render_error,
)
from chat_service.chats.api import router as chats_router
from chat_service.chats.repository import ChatRepository
from chat_service.chats.service import ChatService
from chat_service.database import StoreUnavailable, connect
from chat_service.errors import DependencyUnavailable
from chat_service.health import router as health_router
from chat_service.messages.api import router as messages_router
from chat_service.messages.publisher import MessagePublisher, PublishUnavailable
from chat_service.messages.repository import MessageRepository
from chat_service.messages.service import MessageService
from chat_service.metrics import ChatMetrics, MetricsMiddleware
from chat_service.rate_limits import SendLimits
from chat_service.settings import ChatSettings
from chat_service.store_health import StoreProbe
from chat_service.users import UserDirectory, UserDirectoryUnavailable

PREFIX = "/chat/api"
log = structlog.get_logger(__name__)

# Which dependency a low-level failure belongs to, for the 503 body and the metric.
_DEPENDENCY_OF: dict[type[Exception], str] = {
    StoreUnavailable: "cassandra",
    PublishUnavailable: "kafka",
    UserDirectoryUnavailable: "auth_service",
}


def create_app(settings: ChatSettings | None = None, jwt: JwtSettings | None = None) -> FastAPI:
    settings = settings or ChatSettings()
    app = FastAPI(
        title="Chat service",
        version="1.0",
        lifespan=_lifespan,
        redirect_slashes=False,
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.metrics = ChatMetrics()
    install_token_verifier(app, TokenVerifier(jwt or JwtSettings()))
    install_error_handlers(app)
    limit_request_bodies(app, settings.max_body_bytes)
    limit_request_headers(app, settings.max_header_bytes)  # outermost: checked first
    for error_type in _DEPENDENCY_OF:
        app.add_exception_handler(error_type, _render_unavailable)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    for router in (health_router, chats_router, messages_router):
        app.include_router(router, prefix=PREFIX)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ChatSettings = app.state.settings
    cluster, session = await asyncio.to_thread(connect, settings)
    publisher = MessagePublisher(settings)
    auth_client = httpx.AsyncClient(
        base_url=settings.auth_service_url, timeout=settings.auth_timeout.total_seconds()
    )
    try:
        await _build_services(app, settings, session, publisher, auth_client)
        yield
    finally:
        await publisher.close()
        await auth_client.aclose()
        await asyncio.to_thread(cluster.shutdown)


async def _build_services(
    app: FastAPI,
    settings: ChatSettings,
    session: object,
    publisher: MessagePublisher,
    auth_client: httpx.AsyncClient,
) -> None:
    chat_repository, message_repository = ChatRepository(session), MessageRepository(session)
    probe = StoreProbe(session)
    for preparable in (chat_repository, message_repository, probe):
        await preparable.prepare(settings)
    chats = ChatService(chat_repository, UserDirectory(auth_client, settings))
    app.state.chat_service = chats
    app.state.message_service = MessageService(
        settings, message_repository, chats, publisher, SendLimits(settings, app.state.metrics)
    )
    app.state.store_probe = probe
    app.state.publisher = publisher
    try:  # Start the producer now if Kafka is there; otherwise on the first send.
        await publisher.check()
    except PublishUnavailable:
        log.warning("kafka_not_ready_at_startup")


async def _render_unavailable(request: Request, exc: Exception) -> Response:
    settings: ChatSettings = request.app.state.settings
    dependency = _DEPENDENCY_OF.get(type(exc), "dependency")
    request.app.state.metrics.unavailable.labels(dependency).inc()
    log.warning("dependency_unavailable", dependency=dependency, error=str(exc))
    return render_error(DependencyUnavailable(dependency, settings.retry_after_seconds))
