"""The runner itself: idempotent `up`, a `down` that leaves nothing, clear failures.

Runs that must not touch the shared stack use a state folder and ports of their own.
"""

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.components.base import Context
from devstack.components.kafka import Kafka
from devstack.components.redis import Redis, redis_command
from devstack.health import port_open
from devstack.java import find_java17
from devstack.processes import process_group_members, read_pid
from devstack.settings import REPO_ROOT, Endpoints, StackSettings
from devstack.testing import free_port, unique_name

INFRA = ["postgres", "redis", "firestore", "firebase-auth", "kafka", "cassandra"]


def devstack(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        timeout=300,
        check=False,
    )


@pytest.fixture
def private_state() -> Iterator[dict[str, str]]:
    """Environment for a second, private stack: own state folder (inside the repo, so the
    `postgres` user can reach it) and free ports."""
    state = REPO_ROOT / ".devstack" / unique_name("runner-test")
    overrides = set(StackSettings().endpoints.as_environment())
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in overrides and not key.startswith("DEVSTACK_")
    }
    env |= {
        "DEVSTACK_STATE_DIR": str(state),
        "DEVSTACK_POSTGRES_PORT": str(free_port()),
        "DEVSTACK_FIRESTORE_PORT": str(free_port()),
        "DEVSTACK_REDIS_PORT": str(free_port()),
        "DEVSTACK_KAFKA_PORT": str(free_port()),
        "DEVSTACK_KAFKA_CONTROLLER_PORT": str(free_port()),
    }
    yield env
    devstack("down", env=env)
    shutil.rmtree(state, ignore_errors=True)


def test_up_twice_reuses_the_running_processes(stack: Endpoints) -> None:
    state = StackSettings().state_dir
    pids_before = {name: read_pid(state / name / f"{name}.pid") for name in INFRA}
    result = devstack("up", "--infra")
    assert result.returncode == 0, result.stderr
    for name in INFRA:
        assert f"{name} " in result.stdout
        assert "reused" in result.stdout
    assert "started" not in result.stdout
    assert {name: read_pid(state / name / f"{name}.pid") for name in INFRA} == pids_before


def test_down_leaves_no_listening_port_and_no_process(private_state: dict[str, str]) -> None:
    # Two pieces that start in seconds (a JVM's start is not what this is about).
    started = devstack("up", "--infra", "--only", "postgres,redis", env=private_state)
    assert started.returncode == 0, started.stderr
    state = Path(private_state["DEVSTACK_STATE_DIR"])
    groups = {name: read_pid(state / name / f"{name}.pid") for name in ("postgres", "redis")}
    ports = [
        int(private_state["DEVSTACK_POSTGRES_PORT"]),
        int(private_state["DEVSTACK_REDIS_PORT"]),
    ]
    assert all(port_open("127.0.0.1", port) for port in ports)
    assert all(pid and process_group_members(pid) for pid in groups.values())

    stopped = devstack("down", env=private_state)

    assert stopped.returncode == 0, stopped.stderr
    assert "postgres" in stopped.stdout
    assert "redis" in stopped.stdout
    assert not any(port_open("127.0.0.1", port) for port in ports)
    assert not any(process_group_members(pid) for pid in groups.values() if pid)


def test_a_service_starts_only_after_the_infrastructure_it_migrates(
    private_state: dict[str, str],
) -> None:
    # Cold Postgres and the auth service in one `up`: its migration needs Postgres ready first.
    env = private_state | {"DEVSTACK_AUTH_PORT": str(free_port())}
    result = devstack("up", "--only", "postgres,auth", env=env)
    assert result.returncode == 0, result.stderr
    status = devstack("status", "--only", "postgres,auth", env=env)
    assert status.returncode == 0, status.stdout


def test_missing_java_is_named_clearly(private_state: dict[str, str], tmp_path: Path) -> None:
    env = private_state | {
        "PATH": str(tmp_path),  # neither java nor mvn
        "DEVSTACK_JVM_DIRS": f'["{tmp_path}"]',
        "DEVSTACK_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("JAVA_HOME", None)
    result = devstack("up", "--infra", "--only", "kafka", env=env)
    assert result.returncode == 1
    assert "Java 17 not found" in result.stderr


def test_missing_maven_is_named_clearly(private_state: dict[str, str], tmp_path: Path) -> None:
    java_home = find_java17(None, StackSettings().jvm_dirs).parent.parent
    env = private_state | {
        "PATH": str(tmp_path),
        "DEVSTACK_JAVA_HOME": str(java_home),
        "DEVSTACK_CACHE_DIR": str(tmp_path / "cache"),  # empty: the jars must be downloaded
    }
    result = devstack("up", "--infra", "--only", "kafka", env=env)
    assert result.returncode == 1
    assert "Maven (`mvn`) not found" in result.stderr


def test_port_taken_by_a_stranger_is_refused(private_state: dict[str, str]) -> None:
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        result = devstack(
            "up", "--infra", "--only", "firestore",
            env=private_state | {"DEVSTACK_FIRESTORE_PORT": str(port)},
        )  # fmt: skip
    assert result.returncode == 1
    assert f"port 127.0.0.1:{port} is taken by a process devstack did not start" in result.stderr


def test_status_reports_every_component_healthy(stack: Endpoints) -> None:
    result = devstack("status", "--only", ",".join(INFRA))
    assert result.returncode == 0, result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(lines) == set(INFRA)
    assert all(line.rstrip().endswith("yes") for line in lines.values())


def test_kafka_storage_accepts_a_cluster_id_that_starts_with_a_dash(
    private_state: dict[str, str],
) -> None:
    # One random id in 64 starts with "-"; the formatter once took it for an option.
    settings = StackSettings(
        state_dir=Path(private_state["DEVSTACK_STATE_DIR"]),
        kafka_port=int(private_state["DEVSTACK_KAFKA_PORT"]),
        kafka_controller_port=int(private_state["DEVSTACK_KAFKA_CONTROLLER_PORT"]),
    )
    kafka = Kafka(Context(settings, progress=lambda _: None))
    kafka.state_dir.mkdir(parents=True)
    kafka.config_file.write_text(kafka.server_properties())
    kafka.format_storage("-" + "A" * 21)
    assert (
        "cluster.id=-AAAAAAAAAAAAAAAAAAAAA"
        in (kafka.state_dir / "data" / "meta.properties").read_text()
    )


def private_redis_url(private_state: dict[str, str]) -> str:
    return f"redis://127.0.0.1:{private_state['DEVSTACK_REDIS_PORT']}/0"


def test_redis_answers_ping_and_down_leaves_no_port_and_no_process(
    private_state: dict[str, str],
) -> None:
    started = devstack("up", "--infra", "--only", "redis", env=private_state)
    assert started.returncode == 0, started.stderr
    assert "redis          started" in started.stdout
    pid = read_pid(Path(private_state["DEVSTACK_STATE_DIR"]) / "redis" / "redis.pid")
    assert pid is not None
    assert process_group_members(pid)
    assert redis_command(private_redis_url(private_state), "PING") is True

    stopped = devstack("down", "--only", "redis", env=private_state)

    assert stopped.returncode == 0, stopped.stderr
    assert "redis" in stopped.stdout
    assert not port_open("127.0.0.1", int(private_state["DEVSTACK_REDIS_PORT"]))
    assert not process_group_members(pid)


def test_redis_keeps_its_keys_across_a_restart(private_state: dict[str, str]) -> None:
    # Claims of client_message_id live here: the append-only file keeps every key (and so the
    # rate-limit counters too) across a stop and start.
    url = private_redis_url(private_state)
    assert devstack("up", "--infra", "--only", "redis", env=private_state).returncode == 0
    assert [redis_command(url, "INCR", "logins") for _ in range(2)] == [1, 2]
    assert devstack("down", "--only", "redis", env=private_state).returncode == 0
    assert devstack("up", "--infra", "--only", "redis", env=private_state).returncode == 0
    assert redis_command(url, "INCR", "logins") == 3
    state = Path(private_state["DEVSTACK_STATE_DIR"]) / "redis"
    assert sorted(path.name for path in state.iterdir()) == [
        "appendonlydir",
        "redis.log",
        "redis.pid",
    ]


def test_an_external_redis_is_checked_not_started(
    private_state: dict[str, str], tmp_path: Path
) -> None:
    assert devstack("up", "--infra", "--only", "redis", env=private_state).returncode == 0
    elsewhere = private_state | {
        "DEVSTACK_STATE_DIR": str(tmp_path / "state"),
        "DEVSTACK_REDIS_PORT": str(free_port()),
        "REDIS_URL": private_redis_url(private_state),
    }
    result = devstack("up", "--infra", "--only", "redis", env=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "redis          external" in result.stdout
    assert not (tmp_path / "state" / "redis" / "redis.pid").exists()
    gone = elsewhere | {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    status = devstack("status", "--only", "redis", env=gone)
    assert status.returncode == 3
    assert "external" in status.stdout


def test_missing_redis_server_is_named_clearly(
    private_state: dict[str, str], tmp_path: Path
) -> None:
    result = devstack(
        "up", "--infra", "--only", "redis", env=private_state | {"PATH": str(tmp_path)}
    )
    assert result.returncode == 1
    assert "redis-server not found" in result.stderr
    assert not port_open("127.0.0.1", int(private_state["DEVSTACK_REDIS_PORT"]))


def test_redis_url_reaches_the_services_and_names_an_external_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    local = StackSettings(host="127.0.0.1", redis_port=6390)
    assert local.endpoints.as_environment()["REDIS_URL"] == "redis://127.0.0.1:6390/0"
    assert not Redis(Context(local)).external
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/2")
    own = StackSettings(host="127.0.0.1", redis_port=6390)
    assert own.endpoints.as_environment()["REDIS_URL"] == "redis://cache.internal:6379/2"
    assert Redis(Context(own)).external
