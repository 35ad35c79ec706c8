"""`aggregated-consumer run`: the command line devstack and deployments call."""

from aggregated_consumer.process import run
from aggregated_consumer.settings import ConsumerSettings
from stream_kit import run_command


def main(argv: list[str] | None = None) -> None:
    run_command(
        argv,
        prog="aggregated-consumer",
        description=__doc__,
        command_help="write bursts from Kafka to Firestore until SIGTERM",
        settings=ConsumerSettings,
        run=run,
    )
