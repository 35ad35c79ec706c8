"""Liveness, readiness (Cassandra and Kafka checked) and Prometheus metrics."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from auth_validator import error_response
from chat_service.database import StoreUnavailable
from chat_service.messages.publisher import MessagePublisher, PublishUnavailable
from chat_service.metrics import ChatMetrics
from chat_service.routing import SlashOptionalRouter
from chat_service.store_health import StoreProbe

router: APIRouter = SlashOptionalRouter(tags=["operations"])


async def _probe(request: Request) -> StoreProbe:
    probe: StoreProbe = request.app.state.store_probe
    return probe


async def _publisher(request: Request) -> MessagePublisher:
    publisher: MessagePublisher = request.app.state.publisher
    return publisher


@router.get("/health/")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


_NOT_READY = error_response("not_ready", "not ready: kafka (each dependency's state follows)")


@router.get("/ready/", responses={503: _NOT_READY})
async def ready(
    probe: Annotated[StoreProbe, Depends(_probe)],
    publisher: Annotated[MessagePublisher, Depends(_publisher)],
) -> JSONResponse:
    """Readiness: Cassandra answers a query and Kafka knows the messages topic."""
    checks: dict[str, str] = {}
    try:
        await probe.check()
        checks["cassandra"] = "ok"
    except StoreUnavailable as error:
        checks["cassandra"] = f"unavailable: {error}"
    try:
        await publisher.check()
        checks["kafka"] = "ok"
    except PublishUnavailable as error:
        checks["kafka"] = f"unavailable: {error}"
    failing = [name for name, state in checks.items() if state != "ok"]
    if failing:
        body = {"detail": f"not ready: {', '.join(failing)}", "code": "not_ready", **checks}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready", **checks})


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    chat_metrics: ChatMetrics = request.app.state.metrics
    return Response(generate_latest(chat_metrics.registry), media_type=CONTENT_TYPE_LATEST)
