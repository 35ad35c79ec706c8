"""Run until a signal: the stage finishes its batch, everything closes, probes answer meanwhile."""

import argparse
import asyncio
import os
import signal

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic_settings import SettingsConfigDict

from devstack.testing import free_port
from stream_kit import (
    Command,
    Port,
    StreamSettings,
    close_all,
    run_command,
    run_until_signal,
)
from stream_kit.lifecycle import stop_on_signals


class StageSettings(StreamSettings):
    model_config = SettingsConfigDict(env_prefix="LIFECYCLE_")

    input_topic: str = "in"
    group_id: str = "stage"
    http_port: Port = 0


def _settings(port: int) -> StageSettings:
    return StageSettings(http_port=port)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_lets_the_stage_finish_then_closes_in_order(sig: int) -> None:
    port = free_port()
    events: list[str] = []

    async def stage(stop: asyncio.Event) -> None:
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{port}/health")
        events.append(f"health {health.status_code}")
        os.kill(os.getpid(), sig)
        await stop.wait()
        events.append("batch finished")

    async def close(name: str) -> None:
        events.append(f"closed {name}")

    await run_until_signal(
        _settings(port),
        CollectorRegistry(),
        lambda: None,
        stage,
        closers=[lambda: close("consumer"), lambda: close("producer")],
    )
    assert events == ["health 200", "batch finished", "closed consumer", "closed producer"]
    assert signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler)
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):  # the probe server closed last
            await client.get(f"http://127.0.0.1:{port}/health")


async def test_the_given_event_is_the_one_a_signal_sets() -> None:
    shared = asyncio.Event()
    with stop_on_signals(shared):
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(shared.wait(), 5)
    assert shared.is_set()


async def test_a_crashing_stage_still_closes_everything_and_propagates() -> None:
    closed: list[str] = []

    async def stage(stop: asyncio.Event) -> None:
        raise RuntimeError("fenced")

    async def close() -> None:
        closed.append("consumer")

    with pytest.raises(RuntimeError, match="fenced"):
        await run_until_signal(
            _settings(free_port()), CollectorRegistry(), lambda: None, stage, closers=[close]
        )
    assert closed == ["consumer"]


async def test_one_failing_close_does_not_stop_the_others() -> None:
    closed: list[str] = []

    async def broken() -> None:
        raise ConnectionError("already gone")

    async def fine() -> None:
        closed.append("fine")

    await close_all([broken, fine])
    assert closed == ["fine"]


@pytest.mark.usefixtures("restore_logging")
def test_run_command_reads_settings_and_runs_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFECYCLE_GROUP_ID", "from-env")
    ran: list[str] = []

    async def run(settings: StageSettings) -> None:
        ran.append(settings.group_id)

    run_command(["run"], StageSettings, run, description=None, command_help="h")
    assert ran == ["from-env"]


def test_run_command_without_the_run_subcommand_exits_with_usage() -> None:
    async def run(settings: StageSettings) -> None:
        raise AssertionError("must not run")

    with pytest.raises(SystemExit) as exited:
        run_command([], StageSettings, run, description=None, command_help="h")
    assert exited.value.code == 2


@pytest.mark.usefixtures("restore_logging")
def test_a_one_off_command_gets_the_settings_and_its_own_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIFECYCLE_GROUP_ID", "from-env")
    ran: list[tuple[str, int]] = []

    async def run(settings: StageSettings) -> None:
        raise AssertionError("the stage must not run")

    async def tidy(settings: StageSettings, options: argparse.Namespace) -> None:
        ran.append((settings.group_id, options.size))

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--size", type=int, default=1)

    tidy_up = Command[StageSettings]("tidy up", tidy, arguments)
    run_command(
        ["tidy", "--size", "7"], StageSettings, run, description=None, command_help="h",
        more={"tidy": tidy_up},
    )  # fmt: skip
    assert ran == [("from-env", 7)]
    with pytest.raises(SystemExit) as exited:
        run_command(
            ["tidy", "--size", "x"], StageSettings, run, description=None, command_help="h",
            more={"tidy": tidy_up},
        )  # fmt: skip
    assert exited.value.code == 2
