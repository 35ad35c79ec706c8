"""Every request is timed under its documented route, whatever spelling or outcome."""

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Histogram

from http_kit import (
    NotFound,
    SlashOptionalRouter,
    exposition,
    install_error_handlers,
    limit_request_headers,
    record_request_durations,
)
from http_kit.metrics import REQUEST_BUCKETS, REQUEST_LABELS, ServiceMetrics

NAME = "test_http_request_duration_seconds"


def build_app(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    install_error_handlers(app)
    limit_request_headers(app, 1024)
    record_request_durations(app, Histogram(NAME, "test", REQUEST_LABELS, registry=registry))
    router = SlashOptionalRouter()

    @router.get("/items/{item_id}/")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise NotFound()
        return {"id": item_id}

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> object:
        return exposition(registry)

    app.include_router(router, prefix="/api")
    return app


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def client(registry: CollectorRegistry) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(registry), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def count(registry: CollectorRegistry, route: str, status: str) -> float | None:
    labels = {"method": "GET", "route": route, "status": status}
    return registry.get_sample_value(f"{NAME}_count", labels)


async def test_both_spellings_count_under_the_documented_route(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    for path in ("/api/items/1/", "/api/items/2", "/api/items/0"):
        await client.get(path)
    assert count(registry, "/items/{item_id}/", "200") == 2
    assert count(registry, "/items/{item_id}/", "404") == 1


async def test_unrouted_refused_and_failed_requests_are_counted(
    client: httpx.AsyncClient, registry: CollectorRegistry
) -> None:
    await client.get("/api/nowhere")
    await client.get("/api/items/1/", headers={"x-big": "x" * 2000})
    assert (await client.get("/api/boom")).status_code == 500
    assert count(registry, "unmatched", "404") == 1
    assert count(registry, "unmatched", "431") == 1
    assert count(registry, "/boom", "500") == 1


async def test_exposition_is_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/api/items/1")
    response = await client.get("/api/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert f'{NAME}_count{{method="GET",route="/items/{{item_id}}/",status="200"}} 1.0' in (
        response.text
    )


class ThingMetrics(ServiceMetrics):
    service = "things"


def test_service_metrics_name_the_request_histogram_after_the_service() -> None:
    own, shared = ThingMetrics(), CollectorRegistry()
    given = ThingMetrics(shared)
    assert given.registry is shared
    assert own.registry is not shared
    given.requests.labels("GET", "/items/", "200").observe(0.06)
    buckets = {
        sample.labels["le"]: sample.value
        for metric in shared.collect()
        for sample in metric.samples
        if sample.name == "things_http_request_duration_seconds_bucket"
    }
    assert buckets == {
        **{str(float(bound)): 0.0 if bound < 0.06 else 1.0 for bound in REQUEST_BUCKETS},
        "+Inf": 1.0,
    }
