"""`aggregated-consumer run`: the command line devstack and deployments call.
`aggregated-consumer backfill`: adds the fields changes need to burst documents written before."""

import argparse
import asyncio
import sys

from aggregated_consumer.backfill import PAGE_SIZE, backfill
from aggregated_consumer.process import run
from aggregated_consumer.settings import ConsumerSettings
from stream_kit import run_command


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["backfill"]:
        _backfill(arguments[1:])
        return
    run_command(
        argv,
        prog="aggregated-consumer",
        description=__doc__,
        command_help="write bursts from Kafka to Firestore until SIGTERM",
        settings=ConsumerSettings,
        run=run,
    )


def _backfill(argv: list[str]) -> None:
    # stream-kit's command line offers `run` only; this one-off command parses its own.
    parser = argparse.ArgumentParser(
        prog="aggregated-consumer backfill",
        description="Add message_ids and changed_iso to burst documents that lack them.",
    )
    parser.add_argument(
        "--page-size", type=_page_size, default=PAGE_SIZE, help="documents per page, 1 to 500"
    )
    page_size = parser.parse_args(argv).page_size
    asyncio.run(backfill(ConsumerSettings(), page_size))


def _page_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= 500:
        raise argparse.ArgumentTypeError("a page holds 1 to 500 documents (one batched commit)")
    return size
