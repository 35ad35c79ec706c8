"""`aggregator run`: the command line devstack and deployments call."""

from aggregator.process import run
from aggregator.settings import AggregatorSettings
from stream_kit import run_command

_RUN_HELP = "consume chat_messages and emit bursts until SIGTERM"


def main(argv: list[str] | None = None) -> None:
    run_command(argv, AggregatorSettings, run, description=__doc__, command_help=_RUN_HELP)
