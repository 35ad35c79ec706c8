"""Liveness, readiness and metrics endpoints."""

from typing import Literal

from fastapi import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from auth_service.database import PostgresUnavailable, database_is_reachable
from auth_service.deps import ResourcesDep
from auth_service.routing import SlashOptionalRouter
from auth_validator import error_response

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
async def ready(resources: ResourcesDep) -> Status:
    """Readiness: Postgres answers a query."""
    if not await run_in_threadpool(database_is_reachable, resources.engine):
        raise PostgresUnavailable()
    return Status()


@router.get("/metrics", include_in_schema=False)
async def metrics(resources: ResourcesDep) -> Response:
    return resources.metrics.exposition()
