"""The commit metadata that lets a partition be re-read without emitting a message twice."""

import random
import uuid

from aggregator_testing import FakeClock, change_of, message

from aggregator.checkpoint import Checkpoint, Replay, key_digest, next_checkpoint
from aggregator.settings import AggregatorSettings
from aggregator.window import BurstWindow, WindowPolicy
from chat_events import Burst, ChatMessage, MessageChange, MessageEvent

KEY_A = (uuid.UUID(int=1), "1")
KEY_B = (uuid.UUID(int=2), "1")

Record = MessageEvent | MessageChange


def test_checkpoint_round_trips_through_text() -> None:
    checkpoint = Checkpoint(
        read_up_to=120, open_from={key_digest(KEY_A): 100, key_digest(KEY_B): 117}
    )
    assert Checkpoint.decode(checkpoint.encode()) == checkpoint


def test_foreign_or_empty_metadata_means_no_replay_filter() -> None:
    assert Checkpoint.decode("") is None
    assert Checkpoint.decode(None) is None
    assert Checkpoint.decode("some other tool's metadata") is None
    assert Checkpoint.decode("v1;12;abc:notanumber") is None


def test_the_largest_allowed_checkpoint_fits_in_the_brokers_metadata_limit() -> None:
    cap = AggregatorSettings.model_fields["max_open_per_partition"].metadata[-1].le
    read_up_to = 10**15
    previous = next_checkpoint(
        read_up_to + 10**6, {(uuid.uuid4(), "a"): read_up_to + 10 for _ in range(cap)}, None
    )
    # During a replay, the keys open now and those of the checkpoint being replayed add up.
    current = {(uuid.uuid4(), str(n)): read_up_to - 999_999 for n in range(cap)}
    checkpoint = next_checkpoint(read_up_to, current, previous)
    assert len(checkpoint.open_from) == 2 * cap
    assert len(checkpoint.encode().encode()) < 4096


def test_a_replayed_message_left_if_its_key_was_closed_or_it_was_an_earlier_burst() -> None:
    checkpoint = Checkpoint(read_up_to=20, open_from={key_digest(KEY_A): 15})
    assert checkpoint.verdict(KEY_B, 12) is Replay.LEFT  # closed key below the mark
    assert checkpoint.verdict(KEY_A, 14) is Replay.LEFT  # an earlier burst of an open key
    assert checkpoint.verdict(KEY_A, 15) is not Replay.LEFT  # still held when committed
    assert checkpoint.verdict(KEY_B, 20) is not Replay.LEFT  # never read before


def test_verdict_tells_new_rebuilt_and_left_records_apart() -> None:
    checkpoint = Checkpoint(read_up_to=20, open_from={key_digest(KEY_A): 15})
    assert checkpoint.verdict(KEY_A, 20) is Replay.NEW
    assert checkpoint.verdict(KEY_A, 15) is Replay.REBUILT  # its buffer is being rebuilt
    assert checkpoint.verdict(KEY_A, 14) is Replay.LEFT
    assert checkpoint.verdict(KEY_B, 19) is Replay.LEFT
    # A read mark or a rejected record belongs to no buffer: below the mark it has left.
    assert checkpoint.verdict(None, 15) is Replay.LEFT
    assert checkpoint.verdict(None, 20) is Replay.NEW


def test_commit_during_replay_keeps_the_verdict_on_unread_messages() -> None:
    previous = Checkpoint(read_up_to=50, open_from={key_digest(KEY_A): 30, key_digest(KEY_B): 45})
    # Re-read up to 40; A's replayed buffer closed, nothing open now.
    merged = next_checkpoint(40, {}, previous)
    assert merged.read_up_to == 50
    assert merged.verdict(KEY_A, 35) is Replay.LEFT  # left in the burst just committed
    assert merged.verdict(KEY_A, 42) is not Replay.LEFT  # still unread, was held
    assert merged.verdict(KEY_B, 46) is not Replay.LEFT
    assert merged.verdict((uuid.UUID(int=3), "1"), 44) is Replay.LEFT


def test_crashes_at_random_moments_emit_every_message_exactly_once() -> None:
    for seed in range(30):
        rng = random.Random(seed)
        chats = [uuid.uuid4() for _ in range(5)]
        log: list[Record] = [
            message(rng.choice(chats), rng.choice("12"), body=str(i)) for i in range(300)
        ]
        emitted = _run_with_crashes(seed, log)
        bursts = [item for item in emitted if isinstance(item, Burst)]
        offsets = sorted(int(m.body) for burst in bursts for m in burst.list_of_messages)
        assert offsets == list(range(300)), f"seed {seed}"


def _log_with_changes(rng: random.Random, size: int) -> list[Record]:
    """Messages of five chats and two senders, a quarter of the records an edit or a deletion
    of an earlier message (often one still buffered, sometimes one long gone)."""
    chats = [uuid.uuid4() for _ in range(5)]
    log: list[Record] = []
    sent: list[MessageEvent] = []
    for i in range(size):
        if sent and rng.random() < 0.25:
            target = rng.choice(sent[-8:] if rng.random() < 0.7 else sent)
            log.append(change_of(target, rng.choice(["edit", "edit", "delete"]), body=f"e{i}"))
        else:
            sent.append(message(rng.choice(chats), rng.choice("12"), body=str(i)))
            log.append(sent[-1])
    return log


def _run_with_crashes(seed: int, log: list[Record]) -> list[Burst | MessageChange]:
    """A partition read by a process that crashes at random moments, each time resuming from
    the last commit with the pipeline's rules: a message below the mark is taken again only if
    its buffer was open; a change is applied to a buffer holding its message, and passed on
    unless a rebuilt buffer holds it. Returns every burst and change emitted, in order."""
    rng = random.Random(seed)
    committed_offset, committed_meta = 0, ""
    emitted: list[Burst | MessageChange] = []
    while True:
        clock = FakeClock()
        window = BurstWindow(WindowPolicy(max_messages=4, idle_timeout=3, max_latency=5), clock)
        replay = Checkpoint.decode(committed_meta)
        position, pending = committed_offset, []
        crash_at = rng.randint(position, len(log) + 20)
        while position < len(log) and position < crash_at:
            clock.advance(rng.choice([0.1, 0.5, 2.0, 4.0]))
            record = log[position]
            key = (record.chat_id, record.from_user)
            verdict = Replay.NEW if replay is None else replay.verdict(key, position)
            if replay is not None and position + 1 >= replay.read_up_to:
                replay = None
            if isinstance(record, MessageEvent) and verdict is not Replay.LEFT:
                pending += [c.burst for c in window.add(record, position, 0)]
            elif isinstance(record, MessageChange) and verdict is not Replay.LEFT:
                held = window.apply(record)
                if verdict is Replay.NEW or not held:
                    pending.append(record)
            position += 1
            pending += [c.burst for c in window.close_due()]
            if pending and rng.random() < 0.5:  # a transaction commits
                emitted += pending
                pending = []
                committed_offset = min(window.earliest_offsets().get(0, position), position)
                open_keys = window.open_keys().get(0, {})
                committed_meta = next_checkpoint(position, open_keys, replay).encode()
        if position >= len(log) and position < crash_at:
            return emitted + pending + [c.burst for c in window.flush_all()]


def _documents_after(
    emitted: list[Burst | MessageChange],
) -> dict[str, dict[uuid.UUID, ChatMessage]]:
    """What the consumer makes of the output: a document per burst, each change applied to
    every document holding its message."""
    documents: dict[str, dict[uuid.UUID, ChatMessage]] = {}
    for item in emitted:
        if isinstance(item, Burst):
            documents[item.aggregate_id] = {m.message_id: m for m in item.list_of_messages}
            continue
        for held in documents.values():
            if item.message_id in held:
                held[item.message_id] = item.applied_to(held[item.message_id])
    return documents


def test_crashes_between_messages_and_their_changes_leave_every_message_in_its_final_state() -> (
    None
):
    for seed in range(30):
        log = _log_with_changes(random.Random(seed), 300)
        final: dict[uuid.UUID, ChatMessage] = {}
        for record in log:
            if isinstance(record, MessageEvent):
                final[record.message_id] = record.message()
            else:
                final[record.message_id] = record.applied_to(final[record.message_id])
        documents = _documents_after(_run_with_crashes(seed, log))
        held = [m for document in documents.values() for m in document.values()]
        assert sorted(str(m.message_id) for m in held) == sorted(str(m) for m in final)
        wrong = [m.body for m in held if m.change_order() != final[m.message_id].change_order()]
        assert wrong == [], f"seed {seed}"
