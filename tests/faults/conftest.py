"""Fault tests run against infrastructure of their own: Postgres, Redis, Kafka, Cassandra and
both emulators started by devstack's code in a private state folder on free ports, so that
killing one of them never disturbs another suite. The four services run once for all tests,
on fresh topics, keyspace, database and Firestore project; each test opens chats of its own,
and finds the pipeline whole again first.

`FAULT_SCALE=full` (what `make fault` sets) sends more messages per fault; the default is the
short form that `make test` runs. Every test adds a row to the table printed at the end.
"""

import asyncio
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devstack import stack as runner
from devstack.components.base import Component, Context
from devstack.components.cassandra import Cassandra
from devstack.components.firebase_auth import FirebaseAuth
from devstack.components.firestore import Firestore
from devstack.components.kafka import Kafka
from devstack.components.postgres import Postgres
from devstack.components.redis import Redis
from devstack.kafka_topics import create_topics
from devstack.services import BACKEND
from devstack.settings import REPO_ROOT, StackSettings
from devstack.testing import admin_sql, database_url, free_port, unique_name

# The support modules sit next to the tests and in the end-to-end folder (the pipeline and its
# users); with pytest's importlib mode their folders must be on the path.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "end_to_end"))

from end_to_end_support import Pipeline, service_environment
from fault_load import FULL, LoadShape, until_every_service_ready
from fault_report import FaultRow, render, write_json
from network_links import Toxiproxy, kafka_client_listeners, service_links, start_toxiproxy

PRIVATE_INFRASTRUCTURE: list[type[Component]] = [
    Postgres, Redis, Firestore, FirebaseAuth, Kafka, Cassandra,
]  # fmt: skip
REPORT_JSON = REPO_ROOT / ".devstack" / "fault-report.json"
_ROWS: list[FaultRow] = []


def private_settings() -> StackSettings:
    """Free ports and a state folder of their own; endpoints set to None explicitly so that
    variables pointing at the shared stack cannot turn a private piece into an external one."""
    return StackSettings(
        state_dir=REPO_ROOT / ".devstack" / unique_name("faults"),
        **{name: free_port() for name in (
            "postgres_port", "redis_port", "firestore_port", "firebase_auth_port", "kafka_port",
            "kafka_controller_port", "cassandra_port", "cassandra_storage_port",
            "cassandra_jmx_port",
        )},
        kafka_partitions=3,
        kafka_client_listeners=kafka_client_listeners(),
        cassandra_heap="512M",
        database_url=None, kafka_bootstrap_servers=None, cassandra_hosts=None,
        firestore_emulator_host=None, firebase_auth_emulator_host=None, redis_url=None,
    )  # fmt: skip


@pytest.fixture(scope="session")
def private_infrastructure() -> Iterator[dict[str, Component]]:
    settings = private_settings()
    context = Context(settings, progress=lambda _: None)
    components = runner.build(context, PRIVATE_INFRASTRUCTURE)
    try:
        runner.up(components)
        yield {component.name: component for component in components}
    finally:
        runner.down(components)
        shutil.rmtree(settings.state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def toxiproxy(private_infrastructure: dict[str, Component]) -> Iterator[Toxiproxy]:
    """The proxies between the services and their dependencies (network_links.py)."""
    infrastructure = next(iter(private_infrastructure.values())).settings
    proxy = start_toxiproxy(infrastructure.state_dir / "toxiproxy.log")
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def running_pipeline(
    private_infrastructure: dict[str, Component], toxiproxy: Toxiproxy
) -> Iterator[Pipeline]:
    """The four services on a fresh database, keyspace, topic set and Firestore project, shared
    by the fault tests (each opens chats of its own and audits only those); each service
    reaches each dependency through a proxy of its own."""
    infrastructure = next(iter(private_infrastructure.values())).settings
    endpoints = infrastructure.endpoints
    database = unique_name("faults")
    ports = {
        "postgres": infrastructure.postgres_port, "redis": infrastructure.redis_port,
        "cassandra": infrastructure.cassandra_port, "firestore": infrastructure.firestore_port,
    }  # fmt: skip
    for link in service_links(ports, infrastructure.kafka_client_listeners, database):
        toxiproxy.add(link)
    admin_sql(endpoints, f'CREATE DATABASE "{database}"')
    topics = {name: unique_name(name) for name in ("messages", "grouped", "dead_letters")}
    asyncio.run(create_topics(endpoints.kafka_bootstrap_servers, topics.values(), partitions=3))
    project = f"demo-{unique_name('faults').replace('_', '-')}"
    settings = StackSettings(
        **{
            **infrastructure.model_dump(),
            "state_dir": infrastructure.state_dir / unique_name("services"),
            "database_url": database_url(endpoints, database),
            **{f"{name}_port": free_port() for name in ("auth", "chat", "aggregator", "consumer")},
        }
    )
    # Only the pipeline's services go through the proxies, and commit in shorter waits (so
    # that a blackhole of the short form outlasts a commit and the producer is renewed,
    # aggregator README, "Failure"); what else the worker starts later must not.
    through_proxies = {**toxiproxy.environment, "AGGREGATOR_COMMIT_TIMEOUT": "5"}
    context = Context(settings, progress=lambda _: None, environment=through_proxies)
    services = runner.build(context, BACKEND)
    with pytest.MonkeyPatch.context() as environment:
        # Services read these whenever a test starts one again.
        keyspace = unique_name("faults")
        for name, value in service_environment(topics, keyspace, project).items():
            environment.setenv(name, value)
        environment.setenv("FIRESTORE_EMULATOR_HOST", endpoints.firestore_emulator_host)
        try:
            runner.up(services)
            components = {c.name: c for c in services} | private_infrastructure
            yield Pipeline(settings, components, project)
        finally:
            runner.down(services)


@pytest.fixture
def pipeline(running_pipeline: Pipeline, toxiproxy: Toxiproxy) -> Pipeline:
    """The running pipeline, whole again: whatever an earlier test broke (and, had it failed
    midway, left broken) is started, every link mended and every service ready."""
    toxiproxy.reset()
    runner.up(list(running_pipeline.components.values()))
    until_every_service_ready(running_pipeline, within=120)
    return running_pipeline


@pytest.fixture
def load_shape() -> LoadShape:
    """How much load each fault runs under: `make fault` sends about four times as much."""
    if FULL:
        return LoadShape(conversations=4, fault_after=60, pace=0.1, tail=30)
    return LoadShape(conversations=2, fault_after=16, pace=0.1, tail=8)


@pytest.fixture
def fault_table() -> Callable[[FaultRow], None]:
    """Adds a row to the table printed at the end of the run."""
    return _ROWS.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ROWS:
        return
    terminalreporter.section("faults")
    terminalreporter.write_line(render(_ROWS))
    write_json(_ROWS, REPORT_JSON)
    terminalreporter.write_line(f"(also written to {REPORT_JSON.relative_to(REPO_ROOT)})")
