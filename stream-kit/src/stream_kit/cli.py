"""The `<stage> run` command line every stream service offers."""

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from observability import configure_logging
from stream_kit.settings import StreamSettings

SettingsT = TypeVar("SettingsT", bound=StreamSettings)


def run_command(
    argv: list[str] | None,
    *,
    prog: str,
    description: str | None,
    command_help: str,
    settings: Callable[[], SettingsT],
    run: Callable[[SettingsT], Coroutine[Any, Any, None]],
) -> None:
    """Parses `<prog> run`, reads the settings from the environment, sets up logging and runs
    the stage until it stops. A settings error or a crash ends the process non-zero."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help=command_help)
    parser.parse_args(argv)
    loaded = settings()
    configure_logging(json=loaded.log_json, level=loaded.log_level)
    asyncio.run(run(loaded))
