import httpx
from prometheus_client import CollectorRegistry, Counter

from devstack.testing import free_port
from observability.probes import ProbeServer


async def test_probe_server_answers_health_ready_and_metrics() -> None:
    registry = CollectorRegistry()
    Counter("bursts_written", "Bursts written.", registry=registry).inc(3)
    failing: list[str] = ["kafka"]
    server = ProbeServer(registry, lambda: failing[0] if failing else None)
    port = free_port()
    await server.start("127.0.0.1", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/health")).status_code == 200
            not_ready = await client.get("/ready/")
            failing.clear()
            ready = await client.get("/ready")
            metrics = await client.get("/metrics")
            wrong_method = await client.post("/health")
            unknown = await client.get("/nowhere")
    finally:
        await server.stop()
    assert not_ready.status_code == 503
    assert not_ready.json() == {"detail": "not ready: kafka", "code": "not_ready"}
    assert ready.status_code == 200
    assert "bursts_written_total 3.0" in metrics.text
    assert (wrong_method.status_code, unknown.status_code) == (405, 404)
