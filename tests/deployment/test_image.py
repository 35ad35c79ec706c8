"""The Dockerfile, checked without a Docker engine: its instructions, its build context, and
its install step replayed with uv into a scratch environment that then runs the services."""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from deployment_manifests import (
    COMMAND_MEMBER,
    REPO,
    clean_environment,
    dockerfile_stages,
    dockerignore_excludes,
    stage,
)

from devstack.testing import free_port

SERVICE_MEMBERS = set(COMMAND_MEMBER.values())


def uv_syncs() -> list[list[str]]:
    runs = [
        args for name, args in stage("build").instructions if name == "RUN" and "uv sync" in args
    ]
    # The optional CA wrapper (deploy/with-extra-ca.sh) only prefixes the command.
    commands = [re.sub(r"--mount=\S+", "", args).strip() for args in runs]
    return [shlex.split(command.removeprefix("with-extra-ca")) for command in commands]


def test_every_download_step_may_use_the_optional_ca_secret() -> None:
    downloads = [
        args
        for current in dockerfile_stages()
        for name, args in current.instructions
        if name == "RUN" and ("uv sync" in args or "npm ci" in args)
    ]
    assert len(downloads) == 3
    for args in downloads:
        assert "--mount=type=secret,id=extra_ca" in args
        assert re.sub(r"--mount=\S+", "", args).split()[0] == "with-extra-ca"


def test_the_dockerfile_fetches_no_build_frontend() -> None:
    # A `# syntax=` line makes every build pull a frontend image from a registry.
    for dockerfile in (REPO / "Dockerfile", REPO / "frontend/Dockerfile"):
        assert not re.search(r"^#\s*syntax\s*=", dockerfile.read_text(), flags=re.M | re.I)


def test_the_runtime_image_is_the_default_target_and_runs_as_a_numeric_non_root_user() -> None:
    final = dockerfile_stages()[-1]
    assert final.name == "runtime"
    users = [args for name, args in final.instructions if name == "USER"]
    uid = users[-1].split(":")[0]
    assert uid.isdigit()  # numeric, so Kubernetes' runAsNonRoot can verify it
    assert int(uid) != 0
    # Only the built environment and the health-check script reach the runtime image.
    assert not [
        args
        for name, args in final.instructions
        if name == "COPY" and "--from=build" not in args and "healthcheck" not in args
    ]


def test_every_install_is_frozen_without_dev_dependencies_for_exactly_the_services() -> None:
    syncs = uv_syncs()
    assert len(syncs) == 2
    for argv in syncs:
        assert argv[:2] == ["uv", "sync"]
        assert "--frozen" in argv
        assert "--no-dev" in argv
        packages = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--package"}
        assert packages == SERVICE_MEMBERS


def test_the_build_copies_every_workspace_member() -> None:
    # uv refuses to load a workspace with a member's pyproject missing, and a service's
    # workspace dependency must be there as source: a new member needs two COPY lines.
    members = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["workspace"][
        "members"
    ]
    copied = copy_sources()
    assert {f"{member}/pyproject.toml" for member in members} <= set(copied)
    libraries = set(members) - SERVICE_MEMBERS - {"devstack"}
    assert {f"{member}/" for member in SERVICE_MEMBERS | libraries} <= set(copied)


def test_the_image_uses_the_uv_version_the_makefile_installs() -> None:
    (makefile_version,) = re.findall(
        r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), flags=re.M
    )
    (dockerfile_version,) = re.findall(
        r"^ARG UV_VERSION=(\S+)$", (REPO / "Dockerfile").read_text(), flags=re.M
    )
    assert dockerfile_version == makefile_version


def copy_sources() -> list[str]:
    sources = []
    for current in dockerfile_stages():
        for name, args in current.instructions:
            if name == "COPY" and "--from=" not in args:
                sources += [part for part in args.split()[:-1] if not part.startswith("--")]
    return sources


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_private() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for source in copy_sources():
        source = source.rstrip("/")
        assert (REPO / source).exists(), source
        files = [f for f in tracked if f == source or f.startswith(source + "/")]
        shipped = [f for f in files if "/tests/" not in f]
        assert shipped, source
        assert not [f for f in shipped if dockerignore_excludes(f)], source
    for private in (
        ".venv/bin/python",
        ".devstack/kafka/server.log",
        "deploy/.env",
        ".env",
        "auth-microservice/tests/test_settings.py",
        "devstack/src/devstack/cli.py",
        "devstack/node_modules/.bin/firebase",
        ".git/HEAD",
        "bench/auth_latency.py",
    ):
        assert dockerignore_excludes(private), private


# --- the install step, replayed -------------------------------------------------------------


@pytest.fixture(scope="module")
def image_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs the build stage's COPY and `uv sync` steps into a scratch venv; returns its bin/."""
    context, venv = tmp_path_factory.mktemp("context"), tmp_path_factory.mktemp("image") / "venv"
    for name, args in stage("build").instructions:
        if name == "COPY" and "--from=" not in args:
            *sources, _ = args.split()
            for source in sources:
                copy_into_context(source.rstrip("/"), context)
    env = {
        **clean_environment(),
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": sys.executable,
    }
    # `uv run` names its own binary in UV; the Makefile's uv may not be on PATH.
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv not found (neither $UV nor on PATH)")
    for argv in uv_syncs():
        result = subprocess.run(
            [uv, *argv[1:]],
            cwd=context,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    shutil.rmtree(context)  # like the runtime stage: the environment alone, no sources
    return venv / "bin"


def copy_into_context(source: str, context: Path) -> None:
    origin = REPO / source
    files = [origin] if origin.is_file() else [p for p in origin.rglob("*") if p.is_file()]
    for file in files:
        relative = file.relative_to(REPO).as_posix()
        if not dockerignore_excludes(relative):
            (context / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, context / relative)


def test_the_image_has_the_four_commands_and_no_development_tools(image_env: Path) -> None:
    for command in COMMAND_MEMBER:
        assert (image_env / command).exists(), command
    for absent in ("pytest", "devstack", "ruff", "mypy"):
        assert not (image_env / absent).exists(), absent
    where = subprocess.run(
        [image_env / "python", "-c", "import auth_service; print(auth_service.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    assert "site-packages" in where.stdout  # installed as a wheel, not pointing into the repo


def run_image_command(
    image_env: Path, argv: list[str], env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(image_env / argv[0]), *argv[1:]],
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd="/",
    )


def test_the_packaged_migrations_apply(
    image_env: Path, stack: Any, fresh_database_url: str, fresh_keyspace: str
) -> None:
    auth = run_image_command(
        image_env, ["auth-service", "migrate"], {"DATABASE_URL": fresh_database_url}
    )
    assert auth.returncode == 0, auth.stderr[-2000:]
    chat_env = {"CASSANDRA_HOSTS": stack.cassandra_hosts, "CHAT_KEYSPACE": fresh_keyspace}
    chat = run_image_command(image_env, ["chat-service", "migrate"], chat_env)
    assert chat.returncode == 0, chat.stderr[-2000:]
    again = run_image_command(image_env, ["chat-service", "migrate"], chat_env)
    assert again.returncode == 0, again.stderr[-2000:]  # idempotent: compose re-runs it


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(image_env: Path, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{argv[0]}.log").open("wb")
        process = subprocess.Popen(
            [str(image_env / argv[0]), *argv[1:]],
            env={**clean_environment(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd="/",
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_healthy(
    image_env: Path, url: str, process: subprocess.Popen[bytes], timeout: float = 90
) -> None:
    """Polls with the image's own health-check script, as compose does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode} before {url} was healthy"
        check = subprocess.run(
            [image_env / "python", REPO / "deploy/healthcheck.py", url],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode == 0:
            return
        time.sleep(1)
    raise AssertionError(f"{url} not healthy after {timeout} s: {check.stderr}")


@pytest.mark.slow
def test_the_four_services_from_the_image_become_ready_and_stop_on_sigterm(
    image_env: Path,
    stack: Any,
    fresh_database_url: str,
    fresh_keyspace: str,
    kafka_topics: Callable[..., dict[str, str]],
    firestore_project: str,
    started: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    topics = kafka_topics(
        "chat_messages", "chat_messages_grouped", "chat_messages_grouped_dlq", partitions=1
    )
    unique = uuid.uuid4().hex[:8]
    for argv, env in (
        (["auth-service", "migrate"], {"DATABASE_URL": fresh_database_url}),
        (
            ["chat-service", "migrate"],
            {"CASSANDRA_HOSTS": stack.cassandra_hosts, "CHAT_KEYSPACE": fresh_keyspace},
        ),
    ):
        assert run_image_command(image_env, argv, env).returncode == 0, argv
    common = {
        "APP_ENV": "development",
        "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers,
        "JWT_SECRET": uuid.uuid4().hex * 2,
    }
    auth_port, chat_port, aggregator_port, consumer_port = (free_port() for _ in range(4))
    plan = [
        (
            ["auth-service", "serve", "--host", "127.0.0.1", "--port", str(auth_port)],
            {
                "DATABASE_URL": fresh_database_url,
                "FIREBASE_AUTH_EMULATOR_HOST": stack.firebase_auth_emulator_host,
                "GOOGLE_CLOUD_PROJECT": stack.firebase_project,
            },
            f"http://127.0.0.1:{auth_port}/auth/api/ready/",
        ),
        (
            ["chat-service", "serve", "--host", "127.0.0.1", "--port", str(chat_port)],
            {
                "CASSANDRA_HOSTS": stack.cassandra_hosts,
                "CHAT_KEYSPACE": fresh_keyspace,
                "CHAT_MESSAGES_TOPIC": topics["chat_messages"],
                "CHAT_AUTH_SERVICE_URL": f"http://127.0.0.1:{auth_port}",
            },
            f"http://127.0.0.1:{chat_port}/chat/api/ready/",
        ),
        (
            ["aggregator", "run"],
            {
                "AGGREGATOR_INPUT_TOPIC": topics["chat_messages"],
                "AGGREGATOR_OUTPUT_TOPIC": topics["chat_messages_grouped"],
                "AGGREGATOR_GROUP_ID": f"image-test-{unique}",
                "AGGREGATOR_TRANSACTIONAL_ID": f"image-test-{unique}-0",
                "AGGREGATOR_HTTP_HOST": "127.0.0.1",
                "AGGREGATOR_HTTP_PORT": str(aggregator_port),
            },
            f"http://127.0.0.1:{aggregator_port}/ready",
        ),
        (
            ["aggregated-consumer", "run"],
            {
                "AGGREGATED_CONSUMER_INPUT_TOPIC": topics["chat_messages_grouped"],
                "AGGREGATED_CONSUMER_DEAD_LETTER_TOPIC": topics["chat_messages_grouped_dlq"],
                "AGGREGATED_CONSUMER_GROUP_ID": f"image-test-{unique}",
                "FIRESTORE_EMULATOR_HOST": stack.firestore_emulator_host,
                "GOOGLE_CLOUD_PROJECT": firestore_project,
                "AGGREGATED_CONSUMER_HTTP_HOST": "127.0.0.1",
                "AGGREGATED_CONSUMER_HTTP_PORT": str(consumer_port),
            },
            f"http://127.0.0.1:{consumer_port}/ready",
        ),
    ]
    running = [(started(image_env, argv, {**common, **env}), url) for argv, env, url in plan]
    for process, url in running:
        wait_healthy(image_env, url, process)
    # What `docker stop` and Kubernetes do: SIGTERM, then a grace period before SIGKILL.
    for process, _ in running:
        process.send_signal(signal.SIGTERM)
    for (process, url), (argv, _, _) in zip(running, plan, strict=True):
        # uvicorn re-raises the SIGTERM it handled once shutdown is complete, so "clean" is
        # exit 0 or death by that same signal, within the grace period and without a traceback.
        assert process.wait(timeout=25) in (0, -signal.SIGTERM), f"{url}: exit {process.returncode}"
        log = (tmp_path / f"{argv[0]}.log").read_text()
        assert "Traceback" not in log, f"{argv[0]} failed while stopping:\n{log[-3000:]}"
    with pytest.raises(httpx.ConnectError):
        httpx.get(running[0][1], timeout=2)
