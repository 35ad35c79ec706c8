"""`aggregator run`: the command line devstack and deployments call."""

import argparse
import asyncio

from aggregator.service import run
from aggregator.settings import AggregatorSettings
from observability import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="aggregator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="consume chat_messages and emit bursts until SIGTERM")
    parser.parse_args(argv)
    settings = AggregatorSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(run(settings))
