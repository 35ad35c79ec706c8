"""`aggregated-consumer run`: the command line devstack and deployments call.
`aggregated-consumer backfill`: adds the fields changes need to burst documents written before."""

import argparse

from aggregated_consumer.backfill import PAGE_SIZE, backfill
from aggregated_consumer.process import run
from aggregated_consumer.settings import ConsumerSettings
from stream_kit import Command, run_command


def main(argv: list[str] | None = None) -> None:
    run_command(
        argv,
        ConsumerSettings,
        run,
        description=__doc__,
        command_help="write bursts from Kafka to Firestore until SIGTERM",
        more={"backfill": _BACKFILL},
    )


async def _backfill(settings: ConsumerSettings, options: argparse.Namespace) -> None:
    await backfill(settings, options.page_size)


def _backfill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--page-size", type=_page_size, default=PAGE_SIZE, help="documents per page, 1 to 500"
    )


def _page_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= 500:
        raise argparse.ArgumentTypeError("a page holds 1 to 500 documents (one batched commit)")
    return size


_BACKFILL = Command[ConsumerSettings](
    "add message_ids and changed_iso to burst documents that lack them",
    _backfill,
    _backfill_arguments,
)
