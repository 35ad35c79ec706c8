"""Health, readiness, metrics, docs, and framework errors in our error shape."""

import socket
from typing import Any

import pytest

API = "/auth/api"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


@pytest.mark.parametrize("path", ["/health/", "/health"])
async def test_health_answers_ok_without_redirect(api: Any, path: str) -> None:
    response = await api.http.get(f"{API}{path}")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize("path", ["/ready/", "/ready"])
async def test_ready_answers_ready_naming_postgres_without_redirect(api: Any, path: str) -> None:
    response = await api.http.get(f"{API}{path}")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "postgres": "ok"}


async def test_ready_is_503_naming_postgres_when_it_is_down(make_api: Any) -> None:
    api = await make_api(database_url=f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/x")
    assert (await api.http.get(f"{API}/health/")).status_code == 200
    response = await api.http.get(f"{API}/ready/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {
        "detail": "not ready: postgres",
        "code": "not_ready",
        "postgres": "unavailable: postgres is not reachable",
    }


async def test_requests_while_postgres_is_down_get_503_with_retry_after(make_api: Any) -> None:
    api = await make_api(database_url=f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/x")
    for response in [await api.sign_up("nobody"), await api.log_in("nobody")]:
        assert response.status_code == 503
        assert response.json()["code"] == "postgres_unavailable"
        assert response.headers["Retry-After"] == "5"


async def test_metrics_count_logins_and_requests(api: Any) -> None:
    await api.sign_up("metered")
    await api.log_in("metered")
    await api.log_in("metered", "wrong-password")
    response = await api.http.get(f"{API}/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'auth_logins_total{outcome="success"} 1.0' in text
    assert 'auth_logins_total{outcome="invalid_credentials"} 1.0' in text
    assert 'auth_signups_total{outcome="created"} 1.0' in text
    assert 'method="POST",route="/v1/login/",status="401"' in text
    assert 'auth_password_hash_seconds_count{operation="verify"} 2.0' in text


async def test_docs_and_openapi_are_served_under_the_prefix(api: Any) -> None:
    for path in (f"{API}/docs", f"{API}/docs/"):
        docs = await api.http.get(path)
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        assert f"{API}/openapi.json" in docs.text
    spec = (await api.http.get(f"{API}/openapi.json")).json()
    assert set(spec["paths"]) == {
        f"{API}/health/",
        f"{API}/ready/",
        f"{API}/v1/users/",
        f"{API}/v1/users/me",
        f"{API}/v1/users/{{user_id}}",
        f"{API}/v1/login/",
        f"{API}/v1/sessions/refresh",
        f"{API}/v1/sessions/logout",
        f"{API}/v1/sessions/logout-all",
    }
    assert "201" in spec["paths"][f"{API}/v1/users/"]["post"]["responses"]
    assert "409" in spec["paths"][f"{API}/v1/users/"]["post"]["responses"]


async def test_unknown_path_and_wrong_method_use_the_error_shape(api: Any) -> None:
    missing = await api.http.get(f"{API}/v1/nothing-here")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = await api.http.delete(f"{API}/v1/users/")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


async def test_cors_allows_only_configured_origins(make_api: Any) -> None:
    api = await make_api(cors_origins=["http://localhost:3000"])
    preflight = {
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await api.http.options(f"{API}/v1/users/", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    refused = await api.http.options(
        f"{API}/v1/users/", headers={**preflight, "Origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in refused.headers
    limited = await api.http.get(f"{API}/health/", headers={"Origin": "http://localhost:3000"})
    assert limited.headers["access-control-expose-headers"] == "Retry-After"
