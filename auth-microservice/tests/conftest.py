"""Fixtures for the auth service suite: a migrated database, app clients, a live server."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from auth_service.main import create_app
from auth_service.migrate import upgrade_to_head
from auth_service.settings import AuthSettings
from auth_validator import JwtSettings
from devstack.health import port_open
from devstack.settings import Endpoints, StackSettings
from devstack.testing import free_port, unique_name

TEST_JWT_SECRET = "auth-service-test-secret-" + "0123456789abcdef"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def stack() -> Endpoints:
    """Overrides the workspace fixture: this suite needs only Postgres (and, for the Firebase
    tests, the Auth emulator, checked there), not Kafka or Cassandra."""
    endpoints = StackSettings().endpoints
    from sqlalchemy.engine import make_url

    url = make_url(endpoints.database_url)
    if not port_open(url.host or "127.0.0.1", url.port or 5432):
        pytest.fail("postgres not reachable (start the stack with `make up`)", pytrace=False)
    return endpoints


@pytest.fixture
def database_url(fresh_database_url: str) -> str:
    """A fresh database with the migrations applied, as `auth-service migrate` does."""
    upgrade_to_head(fresh_database_url)
    return fresh_database_url


def jwt_settings() -> JwtSettings:
    return JwtSettings(app_env="test", secret=TEST_JWT_SECRET)


@pytest.fixture
def make_settings(database_url: str, stack: Endpoints) -> Callable[..., AuthSettings]:
    def make(**overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "app_env": "test",
            "database_url": database_url,
            "jwt": jwt_settings(),
            "firebase_auth_emulator_host": stack.firebase_auth_emulator_host,
            "firebase_project": stack.firebase_project,
            # Generous by default; the limit tests set their own thresholds.
            "signups_per_address": 10_000,
            "login_failures_per_address": 10_000,
            # Counters of their own in the stack's Redis, which outlives tests and sessions.
            "rate_limit_prefix": unique_name("auth_limits"),
        }
        values.update(overrides)
        return AuthSettings(**values)

    return make


class AuthApi:
    """A started app behind httpx, plus the calls most tests need."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http

    async def sign_up(self, username: str, password: str = PASSWORD) -> httpx.Response:
        body = {"username": username, "password": password}
        return await self.http.post("/auth/api/v1/users/", json=body)

    async def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        form = {"username": username, "password": password}
        return await self.http.post("/auth/api/v1/login/", data=form)

    async def bearer_for(self, username: str) -> dict[str, str]:
        """Signs the user up and logs in; the Authorization header for them."""
        created = await self.sign_up(username)
        assert created.status_code == 201, created.text
        response = await self.log_in(username)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def from_address(self, address: str) -> httpx.AsyncClient:
        """Another client of the same app, seen as coming from `address`."""
        transport = httpx.ASGITransport(
            app=self.app, raise_app_exceptions=False, client=(address, 40000)
        )
        return httpx.AsyncClient(transport=transport, base_url="http://auth.test")


@pytest.fixture
async def make_api(make_settings: Callable[..., AuthSettings]) -> AsyncIterator[Callable[..., Any]]:
    """Factory: `await make_api(**settings_overrides)` starts an app (lifespan included)."""
    async with AsyncExitStack() as exits:

        async def make(**overrides: Any) -> AuthApi:
            app = create_app(make_settings(**overrides))
            await exits.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(
                app=app, raise_app_exceptions=False, client=("127.0.0.1", 40000)
            )
            http = httpx.AsyncClient(transport=transport, base_url="http://auth.test")
            await exits.enter_async_context(http)
            return AuthApi(app, http)

        yield make


@pytest.fixture
async def api(make_api: Callable[..., Any]) -> AuthApi:
    made: AuthApi = await make_api()
    return made


class LiveServer:
    def __init__(self, base_url: str, process: "subprocess.Popen[bytes]") -> None:
        self.base_url = base_url
        self.process = process

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Sends `signum` (SIGTERM, as devstack stops it); the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=15)


@pytest.fixture
def start_server(database_url: str, stack: Endpoints) -> Iterator[Callable[..., LiveServer]]:
    """Factory: `auth-service serve` in a subprocess on a spare port, as devstack runs it,
    with extra environment variables; stopped after the test."""
    started: list[LiveServer] = []

    def start(capture_stderr: bool = False, **extra_env: str) -> LiveServer:
        port = free_port()
        env = {
            **os.environ,
            **stack.as_environment(),
            "DATABASE_URL": database_url,
            "APP_ENV": "test",
            "JWT_SECRET": TEST_JWT_SECRET,
            "AUTH_SIGNUPS_PER_ADDRESS": "10000",
            "AUTH_LOGIN_FAILURES_PER_ADDRESS": "10000",
            "AUTH_RATE_LIMIT_PREFIX": unique_name("auth_limits"),
            "AUTH_LOG_LEVEL": "WARNING",
            **extra_env,
        }
        command = [sys.executable, "-m", "auth_service", "serve", "--port", str(port)]
        stderr = subprocess.PIPE if capture_stderr else None
        process = subprocess.Popen(command, env=env, stderr=stderr)
        server = LiveServer(f"http://127.0.0.1:{port}", process)
        started.append(server)
        _wait_until_healthy(server.base_url, server.process)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_server(start_server: Callable[..., LiveServer]) -> str:
    return start_server().base_url


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"auth-service exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/auth/api/health/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("auth-service did not become healthy in 30 s")
