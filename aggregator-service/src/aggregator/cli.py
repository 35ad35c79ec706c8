"""`aggregator run`: the command line devstack and deployments call."""

from aggregator.process import run
from aggregator.settings import AggregatorSettings
from stream_kit import run_command


def main(argv: list[str] | None = None) -> None:
    run_command(
        argv,
        prog="aggregator",
        description=__doc__,
        command_help="consume chat_messages and emit bursts until SIGTERM",
        settings=AggregatorSettings,
        run=run,
    )
