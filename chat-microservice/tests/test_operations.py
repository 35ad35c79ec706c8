"""Health, readiness, metrics and docs under the prefix."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx


async def test_health_answers_with_and_without_trailing_slash(client: httpx.AsyncClient) -> None:
    for path in ("/health/", "/health"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


async def test_ready_checks_cassandra_and_kafka(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "cassandra": "ok", "kafka": "ok"}


async def test_ready_names_kafka_when_it_is_unreachable(
    serve_app: Callable[..., Any], closed_address: str
) -> None:
    async with serve_app(
        kafka_bootstrap_servers=closed_address, kafka_timeout=timedelta(seconds=1)
    ) as client:
        response = await client.get("/ready/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"  # CHAT_RETRY_AFTER's default
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["detail"] == "not ready: kafka"
    assert body["cassandra"] == "ok"
    assert body["kafka"].startswith("unavailable: ")


async def test_ready_names_kafka_when_the_topic_is_missing(serve_app: Callable[..., Any]) -> None:
    async with serve_app(
        messages_topic="no_such_topic_here", kafka_timeout=timedelta(seconds=1)
    ) as client:
        response = await client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["kafka"].startswith("unavailable")


async def test_docs_and_openapi_are_served_under_the_prefix(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    spec = (await client.get("/openapi.json")).json()
    assert "/chat/api/v1/messaging/" in spec["paths"]
    assert "/chat/api/v1/chat/{chat_id}/messages/" in spec["paths"]


async def test_metrics_are_exposed_for_prometheus(client: httpx.AsyncClient) -> None:
    await client.get("/health/")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'chat_http_request_duration_seconds_count{method="GET",route="/health/"' in (
        response.text
    )
