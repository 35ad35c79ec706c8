"""Every command a container runs exists in its member's [project.scripts] and parses."""

import argparse
import tomllib
from importlib.metadata import entry_points
from typing import Any

import pytest
from deployment_manifests import (
    COMMAND_MEMBER,
    REPO,
    compose_app_containers,
    dev_app_containers,
    k8s_app_containers,
)


class _Parsed(Exception):
    """Raised by the spy once the real parser accepted the arguments."""

    def __init__(self, namespace: argparse.Namespace) -> None:
        super().__init__("parsed")
        self.namespace = namespace


def parse_with_real_cli(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> argparse.Namespace:
    """Runs the command's own argument parser on argv and stops before it does any work."""
    (entry,) = entry_points(group="console_scripts", name=argv[0])
    real_parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parsed(real_parse_args(self, *args, **kwargs))

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
        with pytest.raises(_Parsed) as parsed:
            entry.load()(argv[1:])
    return parsed.value.namespace


def scripts_of(member: str) -> set[str]:
    pyproject = tomllib.loads((REPO / member / "pyproject.toml").read_text())
    return set(pyproject["project"].get("scripts", {}))


def test_every_container_command_is_a_script_of_the_member_that_owns_it(
    compose: dict[str, Any], dev_docs: list[dict[str, Any]], cluster_secrets: dict[str, str]
) -> None:
    containers = dev_app_containers(compose, dev_docs, cluster_secrets)
    # compose: 4 services + migrate; Kubernetes: 4 services + 2 migration steps of the Job.
    assert len(containers) == 11
    for container in containers:
        for command in container.commands:
            member = COMMAND_MEMBER.get(command[0])
            assert member, f"{container.where}: unknown command {command}"
            assert command[0] in scripts_of(member), (
                f"{container.where}: {command[0]} not in {member}"
            )


def test_every_container_command_is_accepted_by_its_cli(
    monkeypatch: pytest.MonkeyPatch,
    compose: dict[str, Any],
    dev_docs: list[dict[str, Any]],
    cluster_secrets: dict[str, str],
) -> None:
    for container in dev_app_containers(compose, dev_docs, cluster_secrets):
        for command in container.commands:
            parsed = parse_with_real_cli(monkeypatch, command)
            if parsed.command == "serve":
                # Reachable from other containers, on the port the container publishes.
                assert parsed.host == "0.0.0.0", container.where
                assert parsed.port in container.ports, container.where


def test_the_four_services_and_both_migrations_run_in_compose_and_kubernetes(
    compose: dict[str, Any], dev_docs: list[dict[str, Any]], cluster_secrets: dict[str, str]
) -> None:
    wanted = {
        ("auth-service", "serve"),
        ("chat-service", "serve"),
        ("aggregator", "run"),
        ("aggregated-consumer", "run"),
        ("auth-service", "migrate"),
        ("chat-service", "migrate"),
    }
    for containers in (
        compose_app_containers(compose),
        k8s_app_containers(dev_docs, cluster_secrets),
    ):
        found = {(command[0], command[1]) for c in containers for command in c.commands}
        assert found == wanted


def test_a_command_the_cli_does_not_know_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check above must be able to fail: argparse exits on an unknown sub-command.
    with pytest.raises(SystemExit):
        parse_with_real_cli(monkeypatch, ["auth-service", "serv", "--port", "8000"])
