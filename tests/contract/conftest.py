"""The auth and chat services as processes, started by devstack's own code on ports of their
own, against a database, keyspace, topic and rate-limit keys nobody else uses: whatever the
fuzzer sends stays out of every other suite's data."""

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devstack import stack as runner
from devstack.components.base import Context
from devstack.kafka_topics import create_topics, delete_topics
from devstack.services import AuthService, ChatService
from devstack.settings import REPO_ROOT, Endpoints, StackSettings
from devstack.testing import admin_sql, database_url, drop_keyspace, free_port, unique_name


@dataclass(frozen=True)
class Services:
    auth_url: str
    chat_url: str


@pytest.fixture(scope="module")
def services(stack: Endpoints) -> Iterator[Services]:
    database, keyspace, topic = (unique_name(f"contract_{part}") for part in ("db", "ks", "msg"))
    admin_sql(stack, f'CREATE DATABASE "{database}"')
    asyncio.run(create_topics(stack.kafka_bootstrap_servers, [topic], partitions=1))
    settings = StackSettings(
        state_dir=REPO_ROOT / ".devstack" / unique_name("contract"),
        auth_port=free_port(),
        chat_port=free_port(),
        database_url=database_url(stack, database),
        kafka_bootstrap_servers=stack.kafka_bootstrap_servers,
        cassandra_hosts=stack.cassandra_hosts,
        firestore_emulator_host=stack.firestore_emulator_host,
        firebase_auth_emulator_host=stack.firebase_auth_emulator_host,
        redis_url=stack.redis_url,
    )
    context = Context(settings, progress=lambda _: None)
    components = [AuthService(context), ChatService(context)]
    try:
        with pytest.MonkeyPatch.context() as environment:
            for name, value in _environment(keyspace, topic).items():
                environment.setenv(name, value)
            runner.up(components)
        yield Services(
            f"http://127.0.0.1:{settings.auth_port}", f"http://127.0.0.1:{settings.chat_port}"
        )
    finally:
        runner.down(components)
        shutil.rmtree(settings.state_dir, ignore_errors=True)
        asyncio.run(delete_topics(stack.kafka_bootstrap_servers, [topic]))
        drop_keyspace(stack, keyspace)
        admin_sql(stack, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _environment(keyspace: str, topic: str) -> dict[str, str]:
    """Limits out of the fuzzer's way (every request comes from one address and one user),
    cheap password hashing, and this module's own slices of the shared infrastructure."""
    unlimited = "1000000"
    return {
        "AUTH_SIGNUPS_PER_ADDRESS": unlimited,
        "AUTH_LOGIN_FAILURES_PER_ADDRESS": unlimited,
        "AUTH_LOGIN_FAILURES_PER_USERNAME": unlimited,
        "AUTH_SESSION_REQUESTS_PER_ADDRESS": unlimited,
        "AUTH_RATE_LIMIT_PREFIX": unique_name("contract_auth_limits"),
        "AUTH_ARGON2_MEMORY_COST_KIB": "8192",
        "AUTH_ARGON2_TIME_COST": "1",
        "AUTH_WORKERS": "1",
        "CHAT_WORKERS": "1",
        "CHAT_KEYSPACE": keyspace,
        "CHAT_MESSAGES_TOPIC": topic,
        "CHAT_SEND_RATE_PER_SECOND": unlimited,
        "CHAT_SEND_BURST": unlimited,
        "CHAT_REPEAT_BODY_LIMIT": unlimited,
        "CHAT_RATE_LIMIT_PREFIX": unique_name("contract_chat_limits"),
    }
