"""`aggregated-consumer run`: the command line devstack and deployments call."""

import argparse
import asyncio

from aggregated_consumer.service import run
from aggregated_consumer.settings import ConsumerSettings
from observability import configure_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="aggregated-consumer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="write bursts from Kafka to Firestore until SIGTERM")
    parser.parse_args(argv)
    settings = ConsumerSettings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(run(settings))
