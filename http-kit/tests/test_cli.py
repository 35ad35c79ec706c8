"""Every HTTP service's command line: `migrate` and `serve [--host] [--port] [--workers]`, with
the settings read and logging configured first."""

import os
from typing import Any

import pytest
from pydantic_settings import SettingsConfigDict

from http_kit import HttpServiceSettings, cli, run_service_command


class Settings(HttpServiceSettings):
    model_config = SettingsConfigDict(env_prefix="THINGS_")
    log_level: str = "WARNING"
    trusted_proxies: str = "127.0.0.1"
    rate_limit_prefix: str = "things-limits"


def worker_app() -> Any:
    raise AssertionError("serve is replaced: no worker starts")


def run(argv: list[str], migrated: list[Settings] | None = None) -> None:
    def migrate(settings: Settings) -> None:
        """apply the schema"""
        if migrated is not None:
            migrated.append(settings)

    run_service_command(argv, Settings, migrate=migrate, worker_app=worker_app, default_port=8080)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "serve", lambda app, **options: calls.append({"app": app, **options}))
    monkeypatch.delenv("THINGS_WORKERS", raising=False)
    return calls


def test_migrate_runs_the_services_step_with_its_settings(served: list[dict[str, Any]]) -> None:
    migrated: list[Settings] = []
    run(["migrate"], migrated)
    assert migrated == [Settings()]
    assert served == []


def test_serve_defaults_to_loopback_the_default_port_and_the_settings_workers(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THINGS_WORKERS", "3")
    run(["serve"])
    assert served == [
        {
            "app": f"{__name__}:worker_app",
            "host": "127.0.0.1",
            "port": 8080,
            "workers": 3,
            "trusted_proxies": "127.0.0.1",
            "proxies_setting": "THINGS_TRUSTED_PROXIES",
            "access_log": False,
        }
    ]


def test_workers_option_is_set_in_the_environment_for_every_worker(
    served: list[dict[str, Any]],
) -> None:
    run(["serve", "--host", "10.0.0.1", "--port", "9001", "--workers", "2"])
    assert os.environ["THINGS_WORKERS"] == "2"  # monkeypatch.delenv undoes it afterwards
    assert (served[0]["host"], served[0]["port"], served[0]["workers"]) == ("10.0.0.1", 9001, 2)


@pytest.mark.parametrize(
    "argv", [[], ["run"], ["serve", "--port", "x"], ["migrate", "--workers", "2"]]
)
def test_a_bad_command_line_exits_with_status_2(
    served: list[dict[str, Any]], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(argv)
    assert exited.value.code == 2
    assert served == []


def test_the_command_is_named_after_the_service_and_helps_with_its_migrate_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        run(["--help"])
    usage = capsys.readouterr().out
    assert usage.startswith("usage: things-service ")
    assert "`things-service migrate` and `things-service serve" in usage
    assert "apply the schema" in usage
