"""The FastAPI app: clients are created in the lifespan and handed to the services."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI
from redis.asyncio import Redis

from auth_validator import TokenVerifier, install_token_verifier
from chat_service.auth_client import AuthClient, AuthServiceUnavailable
from chat_service.chats.api import router as chats_router
from chat_service.chats.repository import ChatRepository
from chat_service.chats.service import ChatList, ChatService
from chat_service.database import Session, StoreUnavailable, connect
from chat_service.deps import Resources
from chat_service.messages.api import chat_history_directly, send_message_directly
from chat_service.messages.api import router as messages_router
from chat_service.messages.publisher import MessagePublisher, PublishUnavailable
from chat_service.messages.repository import MessageRepository
from chat_service.messages.send_gate import SendGate
from chat_service.messages.service import MessageService
from chat_service.metrics import Metrics
from chat_service.rate_limits import SendLimits
from chat_service.reads.api import router as reads_router
from chat_service.reads.flusher import ReadMarkFlusher
from chat_service.reads.pending import PendingMarks, open_redis
from chat_service.reads.repository import ReadRepository
from chat_service.reads.service import ReadService
from chat_service.settings import ChatSettings
from chat_service.store_health import StoreProbe
from http_kit import (
    Dependency,
    answer_unavailable,
    create_service_app,
    install_resources,
    operations_router,
    serve_directly,
    settle_heap,
)

PREFIX = "/chat/api"
log = structlog.get_logger(__name__)

# Which dependency a driver's failure belongs to, for the 503's code and the metric.
_FAILURES = {
    StoreUnavailable: Dependency("cassandra"),
    PublishUnavailable: Dependency("kafka"),
    AuthServiceUnavailable: Dependency("auth_service"),
}

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(settings: ChatSettings | None = None) -> FastAPI:
    settings = settings or ChatSettings()
    metrics = Metrics()
    app = create_service_app(
        prefix=PREFIX,
        title="Chat service",
        version="1.0",
        lifespan=_lifespan(settings, metrics),
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        request_durations=metrics.requests,
    )
    install_token_verifier(app, TokenVerifier(settings.jwt))
    answer_unavailable(
        app,
        _FAILURES,
        retry_after_seconds=settings.retry_after_seconds,
        on_unavailable=lambda dependency: metrics.unavailable.labels(dependency).inc(),
    )
    operations = operations_router(
        Resources,
        retry_after_seconds=settings.retry_after_seconds,
        readiness="Cassandra answers a query and Kafka knows the messages topic",
    )
    for router in (operations, chats_router, messages_router, reads_router):
        app.include_router(router, prefix=PREFIX)
    # The send and the history page, measured: docs/performance.md, "Direct routes".
    serve_directly(app, messages_router, PREFIX, "POST", "/v1/messaging/", send_message_directly)
    serve_directly(
        app, messages_router, PREFIX, "GET", "/v1/chat/{chat_id}/messages/", chat_history_directly
    )
    return app


def _lifespan(settings: ChatSettings, metrics: Metrics) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        session = await connect(settings)
        publisher = MessagePublisher(settings)
        auth_http = httpx.AsyncClient(
            base_url=settings.auth_service_url, timeout=settings.auth_timeout.total_seconds()
        )
        redis = open_redis(settings)
        flusher: ReadMarkFlusher | None = None
        try:
            resources = await _build_resources(
                settings, metrics, session, publisher, auth_http, redis
            )
            install_resources(app, resources)
            await _start_publisher(publisher)
            flusher = ReadMarkFlusher(resources.reads, settings.read_flush_interval)
            flusher.start()
            settle_heap()
            yield
        finally:
            if flusher is not None:
                await flusher.stop()
            await publisher.close()
            await auth_http.aclose()
            if redis is not None:
                await redis.aclose()
            await session.close()

    return lifespan


async def _build_resources(
    settings: ChatSettings,
    metrics: Metrics,
    session: Session,
    publisher: MessagePublisher,
    auth_http: httpx.AsyncClient,
    redis: Redis | None,
) -> Resources:
    chat_repository, message_repository = ChatRepository(session), MessageRepository(session)
    read_repository, probe = ReadRepository(session), StoreProbe(session)
    for preparable in (chat_repository, message_repository, read_repository, probe):
        await preparable.prepare(settings)
    chats = ChatService(chat_repository, AuthClient(auth_http, settings))
    limits = SendLimits(settings, metrics)
    gate = SendGate(settings, redis, limits, message_repository, metrics)
    pending = PendingMarks(redis, settings.rate_limit_prefix, settings.read_window)
    return Resources(
        metrics=metrics,
        chats=chats,
        chat_list=ChatList(chat_repository, message_repository, pending, settings.bucket_days),
        messages=MessageService(settings, message_repository, chats, publisher, limits, gate),
        reads=ReadService(chats, read_repository, pending, publisher),
        readiness_probes={"cassandra": probe, "kafka": publisher},
    )


async def _start_publisher(publisher: MessagePublisher) -> None:
    try:  # Start the producer now if Kafka is there; otherwise on the first send.
        await publisher.check()
    except PublishUnavailable:
        log.warning("kafka_not_ready_at_startup")
