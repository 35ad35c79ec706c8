"""The probe server over real sockets, and its answers to single request lines."""

import json

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from stream_kit import ProbeServer, Readiness


async def test_probe_server_answers_health_ready_and_metrics() -> None:
    registry = CollectorRegistry()
    Counter("bursts_written", "Bursts written.", registry=registry).inc(3)
    failing: list[str] = ["kafka"]
    server = ProbeServer(registry, lambda: failing[0] if failing else None)
    await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            health = await client.get("/health")
            not_ready = await client.get("/ready/")
            failing.clear()
            ready = await client.get("/ready?verbose=1")
            metrics = await client.get("/metrics")
            unknown = await client.get("/nowhere")
    finally:
        await server.stop()
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert not_ready.status_code == 503
    assert not_ready.json() == {"detail": "not ready: kafka", "code": "not_ready"}
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert "bursts_written_total 3.0" in metrics.text
    assert metrics.headers["content-type"].startswith("text/plain")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "not found", "code": "not_found"}


@pytest.mark.parametrize("method", ["POST", "HEAD", "DELETE"])
async def test_other_methods_get_405_with_a_code_and_the_allowed_method(method: str) -> None:
    server = ProbeServer(CollectorRegistry(), lambda: None)
    await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            answer = await client.request(method, "/health")
    finally:
        await server.stop()
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"
    if method != "HEAD":  # a HEAD answer carries no body for the client to read
        assert answer.json() == {"detail": "GET only", "code": "method_not_allowed"}


def test_a_readiness_name_with_quotes_still_gives_valid_json() -> None:
    server = ProbeServer(CollectorRegistry(), lambda: 'kafka "main"\\ \n')
    answer = server.answer("GET /ready HTTP/1.1")
    assert answer.status.startswith("503")
    assert json.loads(answer.body) == {
        "detail": 'not ready: kafka "main"\\ \n',
        "code": "not_ready",
    }


def test_a_garbled_request_line_is_refused_not_crashed_on() -> None:
    answer = ProbeServer(CollectorRegistry(), lambda: None).answer("\r\n")
    assert answer.status.startswith("405")


def test_port_is_unknown_before_start() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = ProbeServer(CollectorRegistry(), lambda: None).port


def test_readiness_names_the_first_client_not_started_then_failing_checks() -> None:
    firestore_down = True
    readiness = Readiness("kafka", "cache")
    readiness.fails_while("firestore", lambda: firestore_down)
    assert readiness() == "kafka"
    readiness.started("kafka")
    assert readiness() == "cache"
    readiness.started("cache")
    assert readiness() == "firestore"
    firestore_down = False
    assert readiness() is None
