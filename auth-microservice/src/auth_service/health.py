"""Liveness, readiness and metrics endpoints."""

from typing import Literal

from fastapi import Response
from pydantic import BaseModel

from auth_service.database import POSTGRES, POSTGRES_RETRY_AFTER_SECONDS
from auth_service.deps import MetricsDep, ReadinessProbesDep
from http_kit import SlashOptionalRouter, check_readiness, error_response, exposition, failing

router = SlashOptionalRouter(tags=["operations"])


class Status(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/health/")
async def health() -> Status:
    """Liveness: the process answers."""
    return Status()


@router.get(
    "/ready/", responses={503: error_response("postgres_unavailable", "postgres is not reachable")}
)
async def ready(probes: ReadinessProbesDep) -> Status:
    """Readiness: Postgres answers a query."""
    if failing(await check_readiness(probes)):
        # Postgres is the one dependency probed; its 503 is the one every request would get.
        raise POSTGRES.unavailable(POSTGRES_RETRY_AFTER_SECONDS)
    return Status()


@router.get("/metrics", include_in_schema=False)
async def metrics(metrics: MetricsDep) -> Response:
    return exposition(metrics.registry)
