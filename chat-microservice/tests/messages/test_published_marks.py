"""Published marks of concurrent sends share Cassandra requests, and each still waits for its
own write."""

import asyncio
import uuid
from typing import Any

from chat_events import new_timeuuid
from chat_service.messages.repository import MessageRepository


async def test_concurrent_marks_leave_in_a_few_batches_and_are_stored_when_awaited(
    message_repository: MessageRepository,
) -> None:
    chat_id = uuid.uuid4()
    keys = [f"key-{n}" for n in range(40)]
    for key in keys:
        assert (await message_repository.claim(chat_id, key, new_timeuuid(), 1)).taken_now
    statements = message_repository._statements
    batches: list[int] = []
    original = statements.run_together

    async def counting(writes: Any) -> None:
        batches.append(len(writes))
        await original(writes)

    statements.run_together = counting  # type: ignore[method-assign]
    try:
        await asyncio.gather(*(message_repository.mark_published(chat_id, k) for k in keys))
    finally:
        statements.run_together = original  # type: ignore[method-assign]
    assert sum(batches) == len(keys)
    assert len(batches) == 4, batches  # 10 per batch at most
    for key in keys:  # a claim that finds the key reports the mark
        claim = await message_repository.claim(chat_id, key, new_timeuuid(), 1)
        assert (claim.taken_now, claim.published) == (False, True)


async def test_a_failed_batch_fails_every_mark_in_it(
    message_repository: MessageRepository,
) -> None:
    statements = message_repository._statements

    async def failing(writes: Any) -> None:
        raise RuntimeError("cassandra said no")

    original = statements.run_together
    statements.run_together = failing  # type: ignore[method-assign]
    try:
        results = await asyncio.gather(
            *(message_repository.mark_published(uuid.uuid4(), f"k{n}") for n in range(3)),
            return_exceptions=True,
        )
    finally:
        statements.run_together = original  # type: ignore[method-assign]
    assert [str(r) for r in results] == ["cassandra said no"] * 3
