"""The background task that writes pending read marks once their window has ended."""

import asyncio
import contextlib
from datetime import timedelta

import structlog

from chat_service.reads.service import ReadService

log = structlog.get_logger(__name__)


class ReadMarkFlusher:
    """Runs `ReadService.flush_due` every `interval` from the app's start to its stop. Every
    replica runs one; Redis hands each due mark to exactly one of them."""

    def __init__(self, reads: ReadService, interval: timedelta) -> None:
        self._reads = reads
        self._interval = interval.total_seconds()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="read-mark-flusher")

    async def stop(self) -> None:
        """Lets the round in hand finish, then ends. Not a cancellation: a Redis command
        cancelled half-way leaves its pooled connection in a state in which closing the
        client waits forever (seen in the test suite), and a mark taken from the due set but
        not yet written would wait for its retry instead of being written now."""
        if self._task is None:
            return
        self._stopping.set()
        await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._reads.flush_due()
            except Exception as error:  # the task outlives any one round's failure
                log.warning("read_mark_flush_round_failed", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
