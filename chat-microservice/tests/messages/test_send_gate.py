"""The send gate against the stack's Redis: limits counted in one round trip, a key claimed
once whatever races it, and claims found again in Cassandra after Redis lost them."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from structlog.testing import capture_logs

from chat_events import ChatMessage, new_timeuuid, timeuuid_datetime
from chat_service.buckets import bucket_of_timeuuid
from chat_service.messages.repository import Claim, MessageRepository
from chat_service.messages.send_gate import Attempt, SendGate
from chat_service.metrics import Metrics
from chat_service.rate_limits import PROBE_INTERVAL_SECONDS, SendLimits
from chat_service.settings import ChatSettings


class NoCopies:
    """For sends without a key, whose claims are never looked up: says so if one is."""

    async def find_claim(
        self, chat_id: uuid.UUID, client_message_id: str, buckets: Sequence[int]
    ) -> Claim | None:
        raise AssertionError("a send without a key looked up a claim")

    async def claims_seen(self, store: str) -> datetime | None:
        raise AssertionError("a send without a key asked when claims were taken")

    async def note_claims_seen(self, store: str) -> None:
        raise AssertionError("a send without a key noted a claim")


@pytest.fixture
async def redis(chat_settings: ChatSettings) -> AsyncIterator[Redis]:
    client = Redis.from_url(chat_settings.rate_limit_storage, decode_responses=True)
    yield client
    await client.aclose()


def _gate(
    settings: ChatSettings, redis: Redis | None, durable: Any = None, **overrides: Any
) -> tuple[SendGate, Metrics]:
    settings = settings.model_copy(update=overrides)
    metrics = Metrics()
    limits = SendLimits(settings, metrics)
    return SendGate(settings, redis, limits, durable or NoCopies(), metrics), metrics


def _attempt(
    user: str = "42", body: str = "hi", key: str | None = None, chat: Any = None
) -> Attempt:
    time = new_timeuuid()
    bucket = bucket_of_timeuuid(time, ChatSettings().bucket_days)
    return Attempt(user, chat or uuid.uuid4(), key, body, Claim(time, bucket))


async def test_the_send_after_the_burst_is_refused_with_a_retry_delay(
    chat_settings: ChatSettings, redis: Redis
) -> None:
    gate, metrics = _gate(chat_settings, redis, send_rate_per_second=1.0, send_burst=3)
    verdicts = [(await gate.admit(_attempt(body=f"m{n}"))).verdict for n in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].limit == "rate"
    assert 1 <= verdicts[-1].retry_after_seconds <= 3
    assert metrics.registry.get_sample_value("chat_rate_limit_store_outages_total") == 0


async def test_limits_are_per_user(chat_settings: ChatSettings, redis: Redis) -> None:
    gate, _ = _gate(chat_settings, redis, send_rate_per_second=1.0, send_burst=1)
    assert (await gate.admit(_attempt("1"))).verdict.allowed
    assert (await gate.admit(_attempt("2"))).verdict.allowed
    assert not (await gate.admit(_attempt("1"))).verdict.allowed


async def test_the_sixth_identical_body_is_refused_and_leaves_its_key_free(
    chat_settings: ChatSettings, redis: Redis, message_repository: MessageRepository
) -> None:
    gate, _ = _gate(
        chat_settings,
        redis,
        message_repository,
        repeat_body_limit=5,
        repeat_body_window=timedelta(seconds=30),
    )
    chat = uuid.uuid4()
    for n in range(5):
        assert (await gate.admit(_attempt("7", "buy now", f"k{n}", chat))).verdict.allowed
    refused = await gate.admit(_attempt("7", "Buy  NOW", "k5", chat))
    assert (refused.verdict.allowed, refused.verdict.limit) == (False, "repeat")
    assert 25 <= refused.verdict.retry_after_seconds <= 30
    key = f"{chat_settings.rate_limit_prefix}:claim:{chat}:k5"
    assert await redis.get(key) is None
    assert (await gate.admit(_attempt("7", "something else", "k5", chat))).verdict.allowed
    assert (await gate.admit(_attempt("8", "buy now", "k6", chat))).verdict.allowed


async def test_a_retry_racing_its_original_gets_the_original_claim(
    chat_settings: ChatSettings, redis: Redis, message_repository: MessageRepository
) -> None:
    gate, _ = _gate(chat_settings, redis, message_repository)
    chat = uuid.uuid4()
    attempts = [_attempt("5", "once", "same-key", chat) for _ in range(8)]
    admissions = await asyncio.gather(*(gate.admit(attempt) for attempt in attempts))
    new = [a for a in admissions if not a.repeat]
    assert len(new) == 1
    winner = attempts[admissions.index(new[0])].proposed
    assert {a.claim for a in admissions if a.repeat} == {winner}


class CountingRedis(Redis):
    """The stack's Redis, counting the pipelines it executes."""

    pipelines = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        self.pipelines += 1
        return super().pipeline(*args, **kwargs)


async def test_marks_of_concurrent_sends_take_one_round_trip_and_land_before_their_answer(
    chat_settings: ChatSettings, message_repository: MessageRepository
) -> None:
    redis = CountingRedis.from_url(chat_settings.rate_limit_storage, decode_responses=True)
    try:
        gate, _ = _gate(chat_settings, redis, message_repository)
        chat = uuid.uuid4()
        attempts = [_attempt(str(n), "ten at once", f"key-{n}", chat) for n in range(10)]
        for attempt in attempts:
            assert not (await gate.admit(attempt)).repeat
        before = redis.pipelines
        await asyncio.gather(*(gate.mark_published(a, a.proposed) for a in attempts))
        assert redis.pipelines - before == 1
        for attempt in attempts:  # each mark is there once its send may answer
            repeat = await gate.admit(attempt)
            assert repeat.claim == Claim(attempt.proposed.time, attempt.proposed.bucket, True)
    finally:
        await redis.aclose()


async def test_the_gate_calls_of_concurrent_sends_take_one_round_trip(
    chat_settings: ChatSettings,
) -> None:
    redis = CountingRedis.from_url(chat_settings.rate_limit_storage, decode_responses=True)
    try:
        gate, _ = _gate(chat_settings, redis, send_rate_per_second=1.0, send_burst=4)
        assert (await gate.admit(_attempt("61"))).verdict.allowed  # Redis holds the script
        before = redis.pipelines
        sends = (gate.admit(_attempt("61", f"body {n}")) for n in range(6))
        verdicts = [admission.verdict for admission in await asyncio.gather(*sends)]
        assert redis.pipelines - before == 1
        assert [v.allowed for v in verdicts] == [True, True, True, False, False, False]
    finally:
        await redis.aclose()


async def test_a_redis_that_lost_the_script_is_given_it_and_still_counts(
    chat_settings: ChatSettings, redis: Redis, message_repository: MessageRepository
) -> None:
    gate, metrics = _gate(chat_settings, redis, message_repository)
    chat = uuid.uuid4()
    assert not (await gate.admit(_attempt("62", "a", "before-flush", chat))).repeat
    await redis.script_flush()  # as after a restart: the claims persist, the scripts do not
    alone = _attempt("62", "b", "after-flush", chat)
    assert (await gate.admit(alone)).verdict.allowed
    await redis.script_flush()
    concurrent = [_attempt("62", f"b{n}", f"after-flush-{n}", chat) for n in range(3)]
    admissions = await asyncio.gather(*(gate.admit(attempt) for attempt in concurrent))
    assert [a.verdict.allowed and not a.repeat for a in admissions] == [True] * 3
    for attempt in [alone, *concurrent]:  # claimed in Redis, not in this process's memory
        key = f"{chat_settings.rate_limit_prefix}:claim:{chat}:{attempt.client_message_id}"
        assert await redis.get(key) == attempt.proposed.encoded()
    assert metrics.registry.get_sample_value("chat_rate_limit_store_outages_total") == 0


async def test_claims_lost_by_redis_are_found_in_their_durable_copy(
    chat_settings: ChatSettings, redis: Redis, message_repository: MessageRepository
) -> None:
    gate, _ = _gate(chat_settings, redis, message_repository)
    chat, time = uuid.uuid4(), new_timeuuid()
    bucket = bucket_of_timeuuid(time, chat_settings.bucket_days)
    first = Attempt("5", chat, "lost-key", "kept", Claim(time, bucket))
    assert not (await gate.admit(first)).repeat
    await message_repository.insert(_message(first), bucket)
    # Redis loses everything of this service: the claim and when it began holding claims.
    for key in await redis.keys(f"{chat_settings.rate_limit_prefix}:*"):
        await redis.delete(key)
    restarted, _ = _gate(chat_settings, redis, message_repository)
    for gate_now in (gate, restarted):  # one that saw Redis before, one that did not
        retry = await gate_now.admit(_attempt("5", "kept", "lost-key", chat))
        assert retry.claim == Claim(time, bucket)


async def test_with_redis_unreachable_sends_are_limited_in_memory_and_one_warning_is_logged(
    chat_settings: ChatSettings, closed_address: str
) -> None:
    unreachable = Redis.from_url(f"redis://{closed_address}/0", decode_responses=True)
    gate, metrics = _gate(chat_settings, unreachable, send_burst=3, repeat_body_limit=2)
    with capture_logs() as logs:
        rate = [(await gate.admit(_attempt(body=f"b{n}"))).verdict for n in range(4)]
    assert [v.allowed for v in rate] == [True, True, True, False]
    assert rate[-1].retry_after_seconds >= 1
    warnings = [entry for entry in logs if entry["event"] == "send_gate_unavailable"]
    assert len(warnings) == 1, logs
    assert metrics.registry.get_sample_value("chat_rate_limit_fallback") == 1
    assert metrics.registry.get_sample_value("chat_rate_limit_store_outages_total") == 1
    await unreachable.aclose()


class CountedCopies:
    """The real repository, counting how often the durable copy is read."""

    def __init__(self, repository: MessageRepository) -> None:
        self.repository = repository
        self.reads = 0

    async def find_claim(
        self, chat_id: uuid.UUID, client_message_id: str, buckets: Sequence[int]
    ) -> Claim | None:
        self.reads += 1
        return await self.repository.find_claim(chat_id, client_message_id, buckets)

    async def claims_seen(self, store: str) -> datetime | None:
        return await self.repository.claims_seen(store)

    async def note_claims_seen(self, store: str) -> None:
        await self.repository.note_claims_seen(store)


async def test_a_redis_that_lost_nothing_costs_no_read_of_the_copy(
    chat_settings: ChatSettings, redis: Redis, message_repository: MessageRepository
) -> None:
    copies = CountedCopies(message_repository)
    gate, _ = _gate(chat_settings, redis, copies)
    for n in range(5):
        assert not (await gate.admit(_attempt(body=f"b{n}", key=f"k{n}"))).repeat
    assert copies.reads == 0
    assert await message_repository.claims_seen(chat_settings.rate_limit_prefix) is not None


def _message(attempt: Attempt) -> ChatMessage:
    time = attempt.proposed.time
    return ChatMessage(
        message_id=uuid.uuid5(time, "message"),
        chat_id=attempt.chat_id,
        from_user=attempt.user_id,
        to_user="other",
        body=attempt.body,
        time=time,
        time_iso=timeuuid_datetime(time),
        client_message_id=attempt.client_message_id,
    )


async def test_claims_taken_in_memory_during_an_outage_are_found_by_every_replica_after_it(
    chat_settings: ChatSettings, message_repository: MessageRepository, private_redis: Any
) -> None:
    settings = chat_settings.model_copy(update={"rate_limit_storage": private_redis.url})
    clients = [Redis.from_url(private_redis.url, decode_responses=True) for _ in range(2)]
    (gate, _), (replica, _) = (_gate(settings, c, message_repository) for c in clients)
    assert not (await gate.admit(_attempt(key="before"))).repeat
    private_redis.kill()
    during = _attempt(key="during")
    assert not (await gate.admit(during)).repeat  # claimed in this process's memory
    await message_repository.insert(_message(during), during.proposed.bucket)
    private_redis.start()
    await asyncio.sleep(PROBE_INTERVAL_SECONDS + 0.1)
    assert not (await gate.admit(_attempt(key="after"))).repeat  # pushes checked-until
    retry = Attempt(during.user_id, during.chat_id, "during", during.body, _attempt().proposed)
    assert (await replica.admit(retry)).claim == during.proposed
    for client in clients:
        await client.aclose()
