"""Liveness, readiness (Cassandra and Kafka checked) and Prometheus metrics."""

from fastapi import Response
from fastapi.responses import JSONResponse

from chat_service.deps import MetricsDep, ReadinessProbesDep
from http_kit import SlashOptionalRouter, check_readiness, error_response, exposition, failing

router = SlashOptionalRouter(tags=["operations"])

_NOT_READY = error_response("not_ready", "not ready: kafka (each dependency's state follows)")


@router.get("/health/")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready/", responses={503: _NOT_READY})
async def ready(probes: ReadinessProbesDep) -> JSONResponse:
    """Readiness: Cassandra answers a query and Kafka knows the messages topic."""
    states = await check_readiness(probes)
    if names := failing(states):
        body = {"detail": f"not ready: {', '.join(names)}", "code": "not_ready", **states}
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready", **states})


@router.get("/metrics", include_in_schema=False)
async def metrics(chat_metrics: MetricsDep) -> Response:
    return exposition(chat_metrics.registry)
