"""The whole product as processes: the four services started by devstack's own code on free
ports, against slices of the shared infrastructure (a fresh database, keyspace, topics and
Firestore project). The fault tests, which break infrastructure, have their own: tests/faults."""

import asyncio
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import stack as runner
from devstack.components.base import Component, Context
from devstack.kafka_topics import create_topics, delete_topics
from devstack.services import BACKEND
from devstack.settings import REPO_ROOT, Endpoints, StackSettings
from devstack.testing import admin_sql, database_url, drop_keyspace, free_port, unique_name
from devstack.web_ui import WebUI

# The support module sits next to the tests; with pytest's importlib mode its folder must be on
# the path. Its name is unique in the workspace.
sys.path.insert(0, str(Path(__file__).parent))

from chat_page import CSP_VIOLATIONS, chromium
from end_to_end_support import Pipeline, service_environment
from playwright.sync_api import Browser


def apply_current_rules(stack: Endpoints, firestore_project: str) -> None:
    """Puts the Firestore project under the repository's security rules as they are now.

    The shared emulator read `firestore.rules` when it started; the browser tests must check
    the rules of the source under test (who may read read marks, write typing documents)."""
    rules = (REPO_ROOT / "firestore.rules").read_text()
    response = httpx.put(
        f"http://{stack.firestore_emulator_host}/emulator/v1/projects/{firestore_project}"
        ":securityRules",
        json={"rules": {"files": [{"name": "firestore.rules", "content": rules}]}},
        timeout=10,
    )
    response.raise_for_status()


@pytest.fixture(scope="module")
def pipeline(stack: Endpoints) -> Iterator[Pipeline]:
    """The four services on a fresh database, keyspace, topic set and Firestore project, for
    all of a module's tests (each signs up people of its own): starting them takes about 20 s.
    A module sets variables for its services with a module-scoped autouse fixture."""
    bootstrap = stack.kafka_bootstrap_servers
    database = unique_name("test")
    keyspace = unique_name("test")
    firestore_project = f"demo-{unique_name('test').replace('_', '-')}"
    topics = {name: unique_name(name) for name in ("messages", "grouped", "dead_letters")}
    admin_sql(stack, f'CREATE DATABASE "{database}"')
    asyncio.run(create_topics(bootstrap, topics.values(), partitions=3))
    apply_current_rules(stack, firestore_project)
    settings = StackSettings(
        state_dir=REPO_ROOT / ".devstack" / unique_name("e2e"),
        auth_port=free_port(),
        chat_port=free_port(),
        aggregator_port=free_port(),
        consumer_port=free_port(),
        database_url=database_url(stack, database),
        kafka_bootstrap_servers=bootstrap,
        cassandra_hosts=stack.cassandra_hosts,
        firestore_emulator_host=stack.firestore_emulator_host,
        firebase_auth_emulator_host=stack.firebase_auth_emulator_host,
    )
    services = stack_components(settings)
    with pytest.MonkeyPatch.context() as environment:
        for name, value in service_environment(topics, keyspace, firestore_project).items():
            environment.setenv(name, value)
        environment.setenv("FIRESTORE_EMULATOR_HOST", stack.firestore_emulator_host)
        environment.setenv("FIREBASE_AUTH_EMULATOR_HOST", stack.firebase_auth_emulator_host)
        try:
            runner.up(list(services.values()))
            yield Pipeline(settings, services, firestore_project)
        finally:
            runner.down(list(services.values()))
            asyncio.run(delete_topics(bootstrap, topics.values()))
            drop_keyspace(stack, keyspace)
            admin_sql(stack, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            shutil.rmtree(settings.state_dir, ignore_errors=True)


def stack_components(settings: StackSettings) -> dict[str, Component]:
    context = Context(settings, progress=lambda _: None)
    return {component.name: component for component in runner.build(context, BACKEND)}


@pytest.fixture(scope="module")
def web_ui(pipeline: Pipeline) -> Iterator[WebUI]:
    """The browser UI, served on a port of its own and pointed at the module's services and
    Firestore project (the build is shared; `devstack up` makes it when sources changed)."""
    settings = pipeline.settings.model_copy(update={"ui_port": free_port()})
    ui = WebUI(Context(settings, progress=lambda _: None))
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("UI_FIREBASE_PROJECT_ID", pipeline.firestore_project)
        try:
            runner.up([ui])
            yield ui
        finally:
            runner.down([ui])


@pytest.fixture
def browser(web_ui: WebUI) -> Iterator[Browser]:
    """Headless Chromium, started once the stack is up: Playwright's synchronous API runs an
    event loop of its own, and the stack's set-up uses `asyncio.run` (Kafka round trips).

    The test fails if any of its pages reported a Content-Security-Policy violation: the UI's
    policy must allow everything the app does, and nothing more."""
    CSP_VIOLATIONS.clear()
    with chromium() as browser:
        yield browser
    assert CSP_VIOLATIONS == [], CSP_VIOLATIONS
