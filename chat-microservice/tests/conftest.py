"""Fixtures of the chat service suite: a real auth service, one keyspace and topic per session,
and an in-process app per test wired to them."""

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from auth_validator import JwtSettings
from chat_service.database import connect
from chat_service.main import create_app
from chat_service.migrations import migrate_keyspace
from chat_service.settings import ChatSettings
from devstack.kafka_topics import create_topics, delete_topics
from devstack.settings import Endpoints
from devstack.testing import drop_keyspace, free_port, unique_name

REPO_ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = secrets.token_urlsafe(48)
TOPIC_PARTITIONS = 3


@pytest.fixture
def closed_address() -> str:
    """host:port where nothing listens (a port just released by the OS)."""
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def jwt_settings() -> JwtSettings:
    return JwtSettings(app_env="test", secret=JWT_SECRET)


@pytest.fixture(scope="session")
def chat_keyspace(stack: Endpoints, jwt_settings: JwtSettings) -> Iterator[str]:
    """One migrated keyspace for the whole suite; tests keep apart through fresh users."""
    name = unique_name("chat_test")
    settings = ChatSettings(
        app_env="test", jwt=jwt_settings, cassandra_hosts=stack.cassandra_hosts, keyspace=name
    )
    asyncio.run(migrate_keyspace(settings))
    try:
        yield name
    finally:
        drop_keyspace(stack, name)


@pytest.fixture(scope="session")
def messages_topic(stack: Endpoints) -> Iterator[str]:
    name = unique_name("chat_messages")
    asyncio.run(create_topics(stack.kafka_bootstrap_servers, [name], TOPIC_PARTITIONS))
    yield name
    asyncio.run(delete_topics(stack.kafka_bootstrap_servers, [name]))


@pytest.fixture(scope="session")
def auth_database_url(stack: Endpoints) -> Iterator[str]:
    """A Postgres database of our own for the session's auth service (like fresh_database_url,
    which is per test)."""
    name = unique_name("chat_auth")
    admin_dsn = (
        make_url(stack.database_url)
        .set(database="postgres")
        .render_as_string(hide_password=False)
        .replace("+psycopg2", "")
    )
    _run_admin_sql(admin_dsn, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(stack.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_admin_sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def auth_service_url(stack: Endpoints, auth_database_url: str) -> Iterator[str]:
    """The real auth service, migrated and served from a subprocess on a spare port."""
    env = {
        **os.environ,
        **stack.as_environment(),
        "DATABASE_URL": auth_database_url,
        "APP_ENV": "test",
        "JWT_SECRET": JWT_SECRET,
        # Every test signs users up from 127.0.0.1.
        "AUTH_SIGNUPS_PER_ADDRESS": "100000",
        "AUTH_RATE_LIMIT_PREFIX": unique_name("auth_limits"),
        "AUTH_ARGON2_MEMORY_COST_KIB": "8192",
        "AUTH_ARGON2_TIME_COST": "1",
    }
    bindir = Path(sys.executable).parent
    subprocess.run([bindir / "auth-service", "migrate"], env=env, cwd=REPO_ROOT, check=True)
    port = free_port()
    process = subprocess.Popen(
        [bindir / "auth-service", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(f"{url}/auth/api/health/", process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _run_admin_sql(dsn: str, statement: str) -> None:
    import psycopg2

    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"auth service exited with {process.returncode}", pytrace=False)
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail("auth service did not become healthy", pytrace=False)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
async def make_user(auth_service_url: str) -> AsyncIterator[Callable[[], Awaitable[User]]]:
    """Signs a new user up in the auth service and logs them in; returns id and token."""
    async with httpx.AsyncClient(base_url=auth_service_url, timeout=30) as auth:

        async def make() -> User:
            username = unique_name("u")
            password = secrets.token_urlsafe(12)
            created = await auth.post(
                "/auth/api/v1/users/", json={"username": username, "password": password}
            )
            assert created.status_code == 201, created.text
            login = await auth.post(
                "/auth/api/v1/login/", data={"username": username, "password": password}
            )
            assert login.status_code == 200, login.text
            return User(str(created.json()["id"]), username, login.json()["access_token"])

        yield make


@pytest.fixture
def chat_settings(
    stack: Endpoints,
    chat_keyspace: str,
    messages_topic: str,
    auth_service_url: str,
    jwt_settings: JwtSettings,
) -> ChatSettings:
    return ChatSettings(
        app_env="test",
        jwt=jwt_settings,
        cassandra_hosts=stack.cassandra_hosts,
        keyspace=chat_keyspace,
        kafka_bootstrap_servers=stack.kafka_bootstrap_servers,
        messages_topic=messages_topic,
        auth_service_url=auth_service_url,
        # The stack's Redis outlives test sessions, while user ids restart at 1 in each
        # session's fresh auth database: counters of this session get keys of their own.
        rate_limit_prefix=unique_name("chat_limits"),
    )


@pytest.fixture
def serve_app(chat_settings: ChatSettings) -> Callable[..., Any]:
    """`async with serve_app(**setting_overrides) as client:` an in-process app (lifespan run)
    behind an httpx client."""

    @asynccontextmanager
    async def serve(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = chat_settings.model_copy(update=overrides)
        app = create_app(settings)
        async with app.router.lifespan_context(app), _client(app) as client:
            yield client

    return serve


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://chat.test/chat/api", timeout=60
    )


@pytest.fixture
async def client(serve_app: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_app() as served:
        yield served


OpenChatOn = Callable[[httpx.AsyncClient], Awaitable[tuple[User, User, dict[str, Any]]]]


@pytest.fixture
def open_chat_on(make_user: Callable[[], Awaitable[User]]) -> OpenChatOn:
    """`await open_chat_on(client)`: two fresh users and the chat between them (created by
    the first) through that client, for a test that serves an app of its own."""

    async def make(client: httpx.AsyncClient) -> tuple[User, User, dict[str, Any]]:
        alice, bob = await make_user(), await make_user()
        response = await client.post(
            "/v1/chat/", json={"users_id": [alice.id, bob.id]}, headers=alice.headers
        )
        assert response.status_code == 201, response.text
        return alice, bob, response.json()

    return make


@pytest.fixture
def open_chat(
    client: httpx.AsyncClient, open_chat_on: OpenChatOn
) -> Callable[[], Awaitable[tuple[User, User, dict[str, Any]]]]:
    """Two fresh users and the chat between them (created by the first)."""
    return lambda: open_chat_on(client)


@pytest.fixture
def kafka_records(stack: Endpoints, messages_topic: str) -> Callable[..., Awaitable[list[Any]]]:
    """`await kafka_records(chat_id, topic=...)`: every (key, value JSON) record of that chat
    on the topic (the session's messages topic by default); `chat_id=None` for all records."""
    import json

    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def read(chat_id: str | None, topic: str = messages_topic) -> list[Any]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=stack.kafka_bootstrap_servers, enable_auto_commit=False
        )
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in range(TOPIC_PARTITIONS)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records = []
            while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
                batches = await consumer.getmany(*partitions, timeout_ms=1000)
                records += [r for batch in batches.values() for r in batch]
        finally:
            await consumer.stop()
        return [
            (r.key.decode(), json.loads(r.value))
            for r in records
            if chat_id is None or (r.key is not None and r.key.decode() == chat_id)
        ]

    return read


@pytest.fixture
async def message_repository(chat_settings: ChatSettings) -> AsyncIterator[Any]:
    """The service's own repository on a separate connection, to write synthetic history."""
    from chat_service.messages.repository import MessageRepository

    session = await connect(chat_settings)
    repository = MessageRepository(session)
    await repository.prepare(chat_settings)
    yield repository
    await session.close()
