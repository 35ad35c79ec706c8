"""The operations endpoints every HTTP service answers the same way: liveness, readiness and
Prometheus metrics, read from the app's resources.

    GET /health/   200 {"status": "ok"}: the process answers (it asks no dependency)
    GET /ready/    200 {"status": "ready", <dependency>: "ok", ...}; 503 {"detail": "not
                   ready: kafka", "code": "not_ready", <dependency>: "ok" | "unavailable:
                   <why>", ...} with Retry-After
    GET /metrics   the app's registry in Prometheus text format (not in the OpenAPI document)
"""

from collections.abc import Mapping
from typing import Annotated, Literal, Protocol

from fastapi import Depends, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from http_kit.metrics import ServiceMetrics, exposition
from http_kit.openapi import error_response
from http_kit.readiness import ReadinessProbe, check_readiness, failing
from http_kit.resources import resource
from http_kit.routing import SlashOptionalRouter


class OperatedResources(Protocol):
    """What the operations endpoints need of a service's `Resources`."""

    @property
    def metrics(self) -> ServiceMetrics: ...

    @property
    def readiness_probes(self) -> Mapping[str, ReadinessProbe]: ...


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """`ready`, and each dependency's state by name: `ok`."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, str]

    status: Literal["ready"] = "ready"


_NOT_READY = error_response(
    "not_ready", "not ready: <those not ready>, then each dependency's state; see Retry-After."
)


def operations_router(
    kind: type[OperatedResources], *, retry_after_seconds: int, readiness: str
) -> SlashOptionalRouter:
    """The operations endpoints of an app whose resources are a `kind` (a dataclass with the
    fields `metrics` and `readiness_probes`). A 503 from /ready/ says when to ask again,
    `retry_after_seconds` (at least 1); `readiness` says what it checks, for the document."""
    router = SlashOptionalRouter(tags=["operations"])
    probes_dependency = resource(kind, "readiness_probes")
    metrics_dependency = resource(kind, "metrics")
    retry_after = str(max(1, retry_after_seconds))

    @router.get("/health/")
    async def health() -> Liveness:
        """Liveness: the process answers."""
        return Liveness()

    @router.get(
        "/ready/",
        response_model=Readiness,
        responses={503: _NOT_READY},
        description=f"Readiness: {readiness}.",
    )
    async def ready(
        probes: Annotated[Mapping[str, ReadinessProbe], Depends(probes_dependency)],
    ) -> Response:
        states = await check_readiness(probes)
        if names := failing(states):
            body = {"detail": f"not ready: {', '.join(names)}", "code": "not_ready", **states}
            return JSONResponse(body, status_code=503, headers={"Retry-After": retry_after})
        return JSONResponse({"status": "ready", **states})

    @router.get("/metrics", include_in_schema=False)
    async def metrics(
        service_metrics: Annotated[ServiceMetrics, Depends(metrics_dependency)],
    ) -> Response:
        return exposition(service_metrics.registry)

    return router
