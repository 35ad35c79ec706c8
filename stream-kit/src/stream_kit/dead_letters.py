"""What both stages write next to a record they dead-letter, so it can be inspected and
replayed: why it was refused, and where its original bytes came from."""

import structlog
from aiokafka import ConsumerRecord

log = structlog.get_logger(__name__)


def dead_letter_headers(record: ConsumerRecord, reason: str, error: str) -> list[tuple[str, bytes]]:
    """The headers of a dead letter: the error (cut to 2000 characters), its reason, and the
    source topic, partition and offset."""
    return [
        ("error", error[:2000].encode()),
        ("error_reason", reason.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
    ]


def log_dead_letter(record: ConsumerRecord, reason: str, error: str) -> None:
    """One `record_dead_lettered` error event with the reason and the first line of the error."""
    log.error(
        "record_dead_lettered",
        reason=reason,
        partition=record.partition,
        offset=record.offset,
        error=error.splitlines()[0][:300] if error else "",
    )
