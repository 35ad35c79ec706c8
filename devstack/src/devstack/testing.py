"""pytest fixtures that hand each test suite its own slice of the running infrastructure.

`make test` starts the stack first (`devstack up`); these fixtures only connect to it, and
give each test an isolated database, keyspace, topic set or Firestore project so suites can
run side by side and leave nothing behind.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from devstack import processes
from devstack import stack as runner
from devstack.components.base import Context
from devstack.components.redis import Redis
from devstack.health import port_open
from devstack.ports import free_port
from devstack.settings import Endpoints, StackSettings

# The workspace's console scripts sit next to the interpreter running the tests.
_SCRIPTS = Path(sys.executable).parent


class ServiceProcess:
    """One of the workspace's `COMMAND run` services as a child process, for tests that start,
    kill and restart it: its own environment on top of ours, its output in a log file."""

    def __init__(self, command: str, env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServiceProcess":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(_SCRIPTS / self.command), "run"], env=self.env, stdout=log, stderr=log
            )
        return self

    def kill(self) -> None:
        """kill -9: no flush, no commit, no leaving the group."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


async def wait_until(predicate: Callable[[], bool], within: float, interval: float = 0.2) -> bool:
    """Whether `predicate` (a blocking check: it runs in a worker thread) holds within `within`
    seconds, asked every `interval`: a test waits for a condition, never for a fixed time."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await asyncio.to_thread(predicate):
            return True
        await asyncio.sleep(interval)
    return False


def unique_name(prefix: str) -> str:
    """A lowercase name unique to this test run, safe for databases, keyspaces and topics."""
    return f"{prefix}_{secrets.token_hex(5)}"


@pytest.fixture(scope="session")
def stack() -> Endpoints:
    """The running infrastructure; fails the test with a hint when it is not up."""
    from devstack.health import unreachable_components

    endpoints = StackSettings().endpoints
    missing = unreachable_components(endpoints)
    if missing:
        pytest.fail(
            "infrastructure not reachable: " + ", ".join(missing) + " (start it with `make up`)",
            pytrace=False,
        )
    return endpoints


@pytest.fixture
def fresh_database_url(stack: Endpoints) -> Iterator[str]:
    """A new, empty Postgres database on the stack's server, dropped after the test."""
    name = unique_name("test")
    admin_sql(stack, f'CREATE DATABASE "{name}"')
    try:
        yield database_url(stack, name)
    finally:
        admin_sql(stack, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(stack: Endpoints, database: str) -> str:
    """The stack's Postgres URL, pointed at `database`."""
    return make_url(stack.database_url).set(database=database).render_as_string(hide_password=False)


@contextmanager
def cql_session(stack: Endpoints, keyspace: str | None = None) -> Iterator[Any]:
    """A blocking session on the stack's Cassandra (rows as dicts), for tests to look at rows
    as Cassandra holds them, whatever driver the services use."""
    from cassandra.cluster import Cluster
    from cassandra.query import dict_factory

    hosts, port = stack.cassandra_contact
    cluster = Cluster(hosts, port=port)
    try:
        session = cluster.connect(keyspace)
        session.row_factory = dict_factory
        yield session
    finally:
        cluster.shutdown()


def drop_keyspace(stack: Endpoints, keyspace: str, timeout: float = 60) -> None:
    """Drops `keyspace` from the stack's Cassandra if it exists (`timeout` in seconds: a large
    keyspace takes longer)."""
    with cql_session(stack) as session:
        session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=timeout)


def admin_sql(stack: Endpoints, statement: str) -> None:
    """Runs one statement outside a transaction in the server's `postgres` database
    (CREATE/DROP DATABASE cannot run inside one)."""
    url = make_url(stack.database_url).set(database="postgres", drivername="postgresql")
    connection = psycopg2.connect(url.render_as_string(hide_password=False))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture
def fresh_keyspace(stack: Endpoints) -> Iterator[str]:
    """A keyspace name nobody uses yet; the code under test creates it, the fixture drops it."""
    name = unique_name("test")
    yield name
    drop_keyspace(stack, name)


@pytest.fixture
def kafka_topics(stack: Endpoints) -> Iterator[Callable[..., dict[str, str]]]:
    """Factory: `kafka_topics("chat_messages", "chat_messages_grouped", partitions=3)` creates
    uniquely named topics and returns {logical name: real name}; they are deleted afterwards."""
    from devstack.kafka_topics import create_topics, delete_topics

    created: list[str] = []

    def make(*names: str, partitions: int = 3) -> dict[str, str]:
        mapping = {name: unique_name(name) for name in names}
        asyncio.run(create_topics(stack.kafka_bootstrap_servers, mapping.values(), partitions))
        created.extend(mapping.values())
        return mapping

    yield make
    if created:
        asyncio.run(delete_topics(stack.kafka_bootstrap_servers, created))


@pytest.fixture
def firestore_project(stack: Endpoints, monkeypatch: pytest.MonkeyPatch) -> str:
    """A Firestore project id of its own (the emulator keeps projects apart), with the
    emulator variables set for firebase-admin."""
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", stack.firestore_emulator_host)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", stack.firebase_auth_emulator_host)
    return f"demo-{unique_name('test').replace('_', '-')}"


class PrivateRedis:
    """A Redis server of one test's own, started by the code `make up` uses, for tests that
    kill, pause and restart it without disturbing the stack's."""

    def __init__(self, state_dir: Path) -> None:
        # redis_url=None: a REDIS_URL in the environment would make this an external server.
        settings = StackSettings(state_dir=state_dir, redis_port=free_port(), redis_url=None)
        self.component = Redis(Context(settings, progress=lambda _: None))
        self.url = settings.endpoints.redis_url

    def start(self) -> None:
        """Starts the server (again, on the same port, with what its append-only file holds)
        and waits until it answers."""
        runner.up([self.component])

    def kill(self) -> None:
        """kill -9: the server is gone at once; what it acknowledged is in its append-only
        file."""
        processes.stop(self.component.pid_file, stop_signal=signal.SIGKILL, grace_seconds=5)
        # On a loaded machine the port can outlive the process by a moment; start() after
        # kill() must find it free.
        deadline = time.monotonic() + 10
        while port_open(self.component.host, self.component.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def pause(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel but never answered, as with
        a server stalled by a long command or a swapping host."""
        os.kill(self._pid(), signal.SIGSTOP)

    def resume(self) -> None:
        pid = processes.running_pid(self.component.pid_file)
        if pid is not None:
            os.kill(pid, signal.SIGCONT)

    def _pid(self) -> int:
        pid = processes.running_pid(self.component.pid_file)
        assert pid is not None, "the private Redis is not running"
        return pid


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A running Redis of this test's own; stopped (and resumed first, if paused) afterwards."""
    server = PrivateRedis(tmp_path / "redis-state")
    server.start()
    try:
        yield server
    finally:
        server.resume()
        runner.down([server.component])


def clear_environment(monkeypatch: pytest.MonkeyPatch, *prefixes: str) -> None:
    """Unsets every variable starting with one of `prefixes`, for a test of settings defaults
    in a process where another suite (the fault suite, on the same worker) set some."""
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)


# A test that asks for one of these (directly or through its fixtures) needs servers: the
# stack `make up` starts, or a server of its own. `make test-fast` runs every other test.
INFRASTRUCTURE_FIXTURES = frozenset(
    {"stack", "private_redis", "private_state", "private_infrastructure"}
)


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "infra: needs servers (the local stack or one of its own); set by fixtures"
    )


# With several workers (`pytest -n N`), a file's tests run on one worker, in order, sharing its
# module fixtures; the fault suite runs whole on one worker, which starts its private
# infrastructure once. It is the longest chain, so with workers it goes first.
ONE_WORKER_FOLDERS = {"faults": Path("tests") / "faults"}


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    for item in items:
        if INFRASTRUCTURE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.infra)
    if hasattr(config, "workerinput"):  # an xdist worker: the order it reports is the schedule
        items.sort(
            key=lambda item: worker_group(item.nodeid.split("::", 1)[0]) not in ONE_WORKER_FOLDERS
        )


def worker_group(path: str) -> str:
    """The tests that run on one worker together: a file's, or a whole one-worker folder's."""
    for name, folder in ONE_WORKER_FOLDERS.items():
        if Path(path).is_relative_to(folder):
            return name
    return path


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    """`pytest -n N`: whole files (and whole one-worker folders) to a worker, in the order the
    workers collected them."""
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class ByFileAndFolder(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid.split("::", 1)[0])

    return ByFileAndFolder(config, log)
