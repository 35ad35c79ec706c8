"""Liveness, readiness and metrics answer alike in every service, from its resources."""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from http_kit import (
    ReadinessProbe,
    ServiceMetrics,
    install_error_handlers,
    install_resources,
    operations_router,
)


class ThingMetrics(ServiceMetrics):
    service = "things"


class Probe:
    def __init__(self, failure: str | None = None) -> None:
        self.failure = failure

    async def check(self) -> None:
        if self.failure is not None:
            raise ConnectionError(self.failure)


@dataclass(frozen=True)
class Resources:
    metrics: ThingMetrics = field(default_factory=ThingMetrics)
    readiness_probes: Mapping[str, ReadinessProbe] = field(
        default_factory=lambda: {"store": Probe(), "queue": Probe()}
    )


def build_app(resources: Resources) -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    install_error_handlers(app)
    install_resources(app, resources)
    router = operations_router(Resources, retry_after_seconds=7, readiness="the store answers")
    app.include_router(router, prefix="/things/api")
    return app


@pytest.fixture
async def down() -> AsyncIterator[httpx.AsyncClient]:
    probes = {"store": Probe(), "queue": Probe("refused"), "cache": Probe("timed out")}
    async with client_of(Resources(readiness_probes=probes)) as client:
        yield client


def client_of(resources: Resources) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(resources))
    return httpx.AsyncClient(transport=transport, base_url="http://test/things/api")


READY = {"store": "ok", "queue": "ok"}


@pytest.mark.parametrize("path", ["/health/", "/health", "/ready/", "/ready"])
async def test_both_spellings_answer_ok_when_every_dependency_is(path: str) -> None:
    async with client_of(Resources()) as client:
        response = await client.get(path)
    assert response.status_code == 200
    expected = {"status": "ok"} if "health" in path else {"status": "ready", **READY}
    assert response.json() == expected


async def test_ready_is_503_naming_what_is_not_ready_with_retry_after(
    down: httpx.AsyncClient,
) -> None:
    response = await down.get("/ready/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {
        "detail": "not ready: queue, cache",
        "code": "not_ready",
        "store": "ok",
        "queue": "unavailable: refused",
        "cache": "unavailable: timed out",
    }


async def test_health_asks_no_dependency(down: httpx.AsyncClient) -> None:
    assert (await down.get("/health/")).json() == {"status": "ok"}


async def test_metrics_expose_the_resources_registry() -> None:
    resources = Resources()
    resources.metrics.requests.labels("GET", "/things/", "200").observe(0.01)
    async with client_of(resources) as client:
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert 'things_http_request_duration_seconds_count{method="GET",route="/things/"' in (
        response.text
    )


def test_the_document_shows_both_answers_and_not_the_metrics() -> None:
    document: dict[str, Any] = build_app(Resources()).openapi()
    assert set(document["paths"]) == {"/things/api/health/", "/things/api/ready/"}
    ready = document["paths"]["/things/api/ready/"]["get"]
    assert ready["description"] == "Readiness: the store answers."
    assert ready["responses"]["503"]["content"]["application/json"]["example"]["code"] == (
        "not_ready"
    )
    schema = document["components"]["schemas"]["Readiness"]
    assert schema["additionalProperties"] == {"type": "string"}
    assert schema["properties"]["status"]["const"] == "ready"


def test_resources_without_probes_are_refused_when_the_router_is_built() -> None:
    @dataclass(frozen=True)
    class Unprobed:
        metrics: ThingMetrics

    with pytest.raises(AttributeError, match="Unprobed has no field 'readiness_probes'"):
        operations_router(Unprobed, retry_after_seconds=1, readiness="nothing")
