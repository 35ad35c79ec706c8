"""The `<stage> run` command line every stream service offers, plus any one-off commands a
stage adds (`aggregated-consumer backfill`), all with the same settings and logging."""

import argparse
import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from observability import configure_logging
from stream_kit.settings import StreamSettings

SettingsT = TypeVar("SettingsT", bound=StreamSettings)


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


@dataclass(frozen=True)
class Command(Generic[SettingsT]):
    """A one-off subcommand next to `run`: `arguments` declares its options, `run` gets the
    settings and the parsed options."""

    help: str
    run: Callable[[SettingsT, argparse.Namespace], Coroutine[Any, Any, None]]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments


def run_command(
    argv: list[str] | None,
    settings: type[SettingsT],
    run: Callable[[SettingsT], Coroutine[Any, Any, None]],
    *,
    description: str | None,
    command_help: str,
    more: Mapping[str, Command[SettingsT]] | None = None,
) -> None:
    """Parses `<name> run` (or one of the `more` commands; the name is the settings'
    `service_name()`), reads the settings from the environment, sets up logging and runs the
    command until it ends. A settings error or a crash ends the process non-zero."""
    parser = argparse.ArgumentParser(prog=settings.service_name(), description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help=command_help)
    for name, command in (more or {}).items():
        command.arguments(commands.add_parser(name, help=command.help))
    options = parser.parse_args(argv)
    loaded = settings()
    configure_logging(json=loaded.log_json, level=loaded.log_level)
    if options.command == "run":
        asyncio.run(run(loaded))
    else:
        asyncio.run((more or {})[options.command].run(loaded, options))
