"""`aggregated-consumer backfill`: a one-off pass over the burst documents written before
edits and deletions existed.

Those documents lack `message_ids`, so no change's query finds them (a deletion would never
reach them), and `changed_iso`, so the browser's query, which orders on it, skips them. The
pass reads every burst document page by page, in path order, and adds both fields where they
are missing (`message_ids` from `list_of_messages`, `changed_iso` = `latest_message_time_iso`).
It is safe to run while the consumer runs and to run again: a document that has the fields is
left alone, and one rewritten meanwhile is skipped (its writer wrote the fields).
"""

import asyncio

import structlog

from aggregated_consumer.process import build_repository
from aggregated_consumer.settings import ConsumerSettings

log = structlog.get_logger(__name__)

PAGE_SIZE = 500
"""Documents per page: one query, then at most one batched commit (Firestore's limit is 500)."""


async def backfill(settings: ConsumerSettings, page_size: int = PAGE_SIZE) -> tuple[int, int]:
    """Runs the pass to the end; returns (documents read, documents updated). firebase-admin
    is synchronous and nothing else runs meanwhile, so the whole pass is one worker thread."""
    return await asyncio.to_thread(_backfill, settings, page_size)


def _backfill(settings: ConsumerSettings, page_size: int) -> tuple[int, int]:
    repository = build_repository(settings)
    read = updated = 0
    after: str | None = None
    try:
        while True:
            counts, after = repository.backfill_page(after, page_size)
            read += counts.matched
            updated += counts.written
            if after is None:
                break
            log.info("backfill_page_done", read=read, updated=updated, last=after)
    finally:
        repository.close()
    log.info("backfill_finished", project=settings.firebase_project, read=read, updated=updated)
    return read, updated
