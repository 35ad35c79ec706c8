"""The burst window on a fake clock: every closing rule, ties, many keys, clock jumps, memory."""

import random
import uuid

import pytest
from aggregator_testing import FakeClock, change_of, message

from aggregator.window import BurstWindow, ClosedBurst, FlushReason, WindowPolicy

CHAT_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
CHAT_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def make(clock: FakeClock, **policy: float | int | None) -> BurstWindow:
    defaults: dict[str, float | int | None] = {
        "max_messages": 10,
        "idle_timeout": 3.0,
        "max_latency": 5.0,
    }
    return BurstWindow(WindowPolicy(**{**defaults, **policy}), clock)  # type: ignore[arg-type]


def bodies(closed: ClosedBurst) -> list[str]:
    return [m.body for m in closed.burst.list_of_messages]


def test_burst_closes_at_max_messages_with_messages_in_order() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=3)
    assert window.add(message(body="a"), 0, 0) == []
    assert window.add(message(body="b"), 1, 0) == []
    closed = window.add(message(body="c"), 2, 0)
    assert len(closed) == 1
    assert closed[0].reason is FlushReason.MAX_MESSAGES
    assert bodies(closed[0]) == ["a", "b", "c"]
    assert closed[0].burst.count == 3
    assert len(window) == 0


def test_a_republished_message_is_held_once() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=3)
    first = message(body="a")
    window.add(first, 0, 0)
    assert window.add(first, 1, 0) == []
    closed = window.add(message(body="b"), 2, 0) + window.add(message(body="c"), 3, 0)
    assert [bodies(c) for c in closed] == [["a", "b", "c"]]


def test_burst_closes_after_idle_timeout_not_before() -> None:
    clock = FakeClock()
    window = make(clock)
    window.add(message(), 0, 0)
    clock.advance(2.999)
    assert window.close_due() == []
    clock.advance(0.001)  # exactly idle_timeout: a tie closes
    closed = window.close_due()
    assert [c.reason for c in closed] == [FlushReason.IDLE]


def test_idle_timer_restarts_with_each_message() -> None:
    clock = FakeClock()
    window = make(clock, max_latency=None)
    window.add(message(body="a"), 0, 0)
    for offset in range(1, 5):
        clock.advance(2.0)
        assert window.add(message(body=str(offset)), offset, 0) == []
        assert window.close_due() == []
    clock.advance(3.0)
    closed = window.close_due()
    assert bodies(closed[0]) == ["a", "1", "2", "3", "4"]


def test_steady_stream_flushes_at_max_latency() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=100)
    window.add(message(body="first"), 0, 0)
    for offset in range(1, 5):
        clock.advance(1.0)
        window.add(message(), offset, 0)
    clock.advance(1.0)  # 5 s after opening, 1 s after the last message
    closed = window.close_due()
    assert [c.reason for c in closed] == [FlushReason.MAX_LATENCY]
    assert closed[0].burst.count == 5
    assert closed[0].open_seconds == pytest.approx(5.0)


def test_without_max_latency_a_steady_stream_never_flushes() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=1000, max_latency=None)
    for offset in range(100):
        window.add(message(), offset, 0)
        clock.advance(1.0)
        assert window.close_due() == []
    assert len(window) == 1


def test_message_arriving_at_the_deadline_starts_a_new_burst() -> None:
    clock = FakeClock()
    window = make(clock)
    window.add(message(body="old"), 0, 0)
    clock.advance(3.0)  # due, but close_due was not called yet
    closed = window.add(message(body="new"), 1, 0)
    assert [bodies(c) for c in closed] == [["old"]]
    assert closed[0].reason is FlushReason.IDLE
    assert window.open_keys()[0] == {(CHAT_A, "1"): 1}


def test_max_latency_wins_a_tie_with_idle() -> None:
    clock = FakeClock()
    window = make(clock, idle_timeout=5.0, max_latency=5.0)
    window.add(message(), 0, 0)
    clock.advance(5.0)
    assert [c.reason for c in window.close_due()] == [FlushReason.MAX_LATENCY]


def test_keys_are_kept_apart_by_chat_and_sender() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=2)
    window.add(message(CHAT_A, "1", "a1"), 0, 0)
    window.add(message(CHAT_A, "2", "a2"), 1, 0)
    window.add(message(CHAT_B, "1", "b1"), 0, 1)
    closed = window.add(message(CHAT_A, "1", "a1bis"), 2, 0)
    assert [bodies(c) for c in closed] == [["a1", "a1bis"]]
    assert closed[0].burst.aggregate_id.startswith("1_")
    assert len(window) == 2


def test_many_keys_each_close_once_with_their_own_messages() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=1000)
    chats = [uuid.uuid4() for _ in range(200)]
    for offset, chat in enumerate(chats * 3):
        window.add(message(chat, "1", body=str(chat)), offset, offset % 4)
    clock.advance(3.0)
    closed = window.close_due()
    assert len(closed) == 200
    assert {c.burst.chat_id for c in closed} == set(chats)
    assert all(c.burst.count == 3 and set(bodies(c)) == {str(c.burst.chat_id)} for c in closed)
    assert len(window) == 0
    assert window.earliest_offsets() == {}


def test_earliest_offset_is_the_first_held_message_per_partition() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=2)
    window.add(message(CHAT_A, "1"), 10, 0)
    window.add(message(CHAT_A, "2"), 11, 0)
    window.add(message(CHAT_B, "1"), 5, 1)
    assert window.earliest_offsets() == {0: 10, 1: 5}
    window.add(message(CHAT_A, "1"), 12, 0)  # closes the burst that started at 10
    assert window.earliest_offsets() == {0: 11, 1: 5}


def test_capacity_force_closes_the_oldest_buffer() -> None:
    clock = FakeClock()
    window = make(clock, max_open_buffers=3)
    chats = [uuid.uuid4() for _ in range(4)]
    for offset, chat in enumerate(chats[:3]):
        window.add(message(chat), offset, offset)
        clock.advance(0.1)
    closed = window.add(message(chats[3]), 3, 3)
    assert [(c.burst.chat_id, c.reason) for c in closed] == [(chats[0], FlushReason.CAPACITY)]
    assert len(window) == 3


def test_per_partition_cap_closes_the_oldest_of_that_partition() -> None:
    clock = FakeClock()
    window = make(clock, max_open_per_partition=2)
    other = uuid.uuid4()
    window.add(message(other), 0, 1)
    chats = [uuid.uuid4() for _ in range(3)]
    closed = [c for i, chat in enumerate(chats) for c in window.add(message(chat), i, 0)]
    assert [c.burst.chat_id for c in closed] == [chats[0]]
    assert set(window.open_keys()[1]) == {(other, "1")}
    assert len(window.open_keys()[0]) == 2


def test_memory_stays_bounded_under_endless_distinct_keys() -> None:
    clock = FakeClock()
    window = make(clock, max_open_buffers=50)
    emitted = 0
    for offset in range(5000):
        emitted += len(window.add(message(uuid.uuid4()), offset, offset % 3))
        assert len(window) <= 50
    assert emitted == 5000 - 50
    # Every order the window keeps its buffers in forgets the closed ones.
    assert len(window._buffers) == len(window._by_activity) == len(window)
    assert sum(len(keys) for keys in window._by_partition.values()) == 50


def test_clock_jumping_forward_closes_everything_due_at_once() -> None:
    clock = FakeClock()
    window = make(clock)
    for offset in range(5):
        window.add(message(uuid.uuid4()), offset, 0)
    clock.advance(3600)
    assert len(window.close_due()) == 5


def test_clock_jumping_backwards_does_not_hold_buffers_longer_than_a_timeout() -> None:
    clock = FakeClock()
    window = make(clock, max_latency=None)
    window.add(message(), 0, 0)
    clock.advance(-3600)
    assert window.close_due() == []
    clock.advance(2.9)
    assert window.close_due() == []
    clock.advance(0.1)
    assert [c.reason for c in window.close_due()] == [FlushReason.IDLE]


def test_next_deadline_is_the_earliest_idle_or_latency_deadline() -> None:
    clock = FakeClock()
    window = make(clock)
    assert window.next_deadline() is None
    window.add(message(CHAT_A), 0, 0)
    clock.advance(1.0)
    window.add(message(CHAT_B), 1, 0)
    assert window.next_deadline() == pytest.approx(1003.0)
    clock.advance(1.5)
    window.add(message(CHAT_A), 2, 0)
    # CHAT_A: idle until 1005.5 but open since 1000, so max latency wins at 1005; CHAT_B: 1004.
    assert window.next_deadline() == pytest.approx(1004.0)


def test_a_buffer_kept_busy_outlasts_an_older_idle_one() -> None:
    clock = FakeClock()
    window = make(clock, max_latency=None)
    window.add(message(CHAT_A), 0, 0)
    clock.advance(1.0)
    window.add(message(CHAT_B), 1, 0)
    clock.advance(1.0)
    window.add(message(CHAT_A), 2, 0)  # CHAT_A, opened first, is now the busier one
    assert window.next_deadline() == pytest.approx(1004.0)  # CHAT_B's last message + 3 s
    clock.advance(2.0)
    assert [c.burst.chat_id for c in window.close_due()] == [CHAT_B]
    assert window.next_deadline() == pytest.approx(1005.0)


def test_bursts_due_together_close_in_the_order_their_buffers_opened() -> None:
    clock = FakeClock()
    window = make(clock)
    chats = [uuid.uuid4() for _ in range(4)]
    for offset, chat in enumerate(chats):
        window.add(message(chat), offset, 0)
        clock.advance(0.5)
    window.add(message(chats[0]), 4, 0)  # the first buffer becomes the last to fall idle
    clock.advance(10.0)
    closed = window.close_due()
    assert [c.burst.chat_id for c in closed] == chats
    assert {c.reason for c in closed} == {FlushReason.MAX_LATENCY}


def test_deadlines_and_closes_match_a_pass_over_every_buffer() -> None:
    """Random traffic over many keys and partitions: after every step the window's answers are
    those of looking at every open buffer, as a window without its orders would."""
    rng = random.Random(11)
    clock = FakeClock()
    window = make(clock, max_messages=4, max_open_per_partition=6, max_open_buffers=15)
    chats = [uuid.uuid4() for _ in range(12)]
    for offset in range(3000):
        clock.advance(rng.choice([0.0, 0.05, 0.3, 1.0, 2.5]))
        buffers = list(window._buffers.items())
        idle, latency = 3.0, 5.0
        deadlines = [min(b.last_message_at + idle, b.opened_at + latency) for _, b in buffers]
        assert window.next_deadline() == (min(deadlines) if deadlines else None)
        if rng.random() < 0.3:
            now = clock()
            due = [
                key
                for key, b in buffers
                if now - b.opened_at >= latency or now - b.last_message_at >= idle
            ]
            closed = window.close_due()
            assert [(c.burst.chat_id, c.burst.from_user) for c in closed] == due
        else:
            sender = rng.choice(["1", "2"])
            window.add(message(rng.choice(chats), sender), offset, rng.randrange(3))


def test_flush_partitions_closes_only_their_buffers() -> None:
    clock = FakeClock()
    window = make(clock)
    window.add(message(CHAT_A), 0, 0)
    window.add(message(CHAT_B), 0, 1)
    closed = window.flush_partitions([1])
    assert [(c.burst.chat_id, c.reason) for c in closed] == [(CHAT_B, FlushReason.REVOKED)]
    assert window.earliest_offsets() == {0: 0}
    assert [c.reason for c in window.flush_all()] == [FlushReason.SHUTDOWN]
    assert len(window) == 0


def test_clear_drops_buffers_without_emitting() -> None:
    clock = FakeClock()
    window = make(clock)
    window.add(message(), 0, 0)
    window.clear()
    clock.advance(10)
    assert window.close_due() == []
    assert window.earliest_offsets() == {}


def test_aggregate_id_is_sender_first_message_time_and_first_record() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=2)
    first, second = message(sender="7"), message(sender="7")
    window.add(first, 40, 3)
    (closed,) = window.add(second, 41, 3)
    assert closed.burst.aggregate_id == f"7_{first.time}_3-40"
    assert closed.burst.first_message_time == first.time
    assert closed.burst.latest_message_time == second.time


@pytest.mark.parametrize(
    "policy",
    [{"max_messages": 0}, {"idle_timeout": 0}, {"max_latency": -1.0}, {"max_open_buffers": 0}],
)
def test_policy_rejects_nonsense(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        make(FakeClock(), **policy)


def test_open_keys_lists_every_partition_in_one_call_and_forgets_closed_ones() -> None:
    clock = FakeClock()
    window = make(clock)
    first, second = uuid.uuid4(), uuid.uuid4()
    window.add(message(first), 7, 0)
    window.add(message(second), 9, 3)
    assert window.open_keys() == {0: {(first, "1"): 7}, 3: {(second, "1"): 9}}
    clock.advance(3600)
    window.close_due()
    assert window.open_keys() == {}


def test_a_republished_copy_replaces_the_held_one_only_if_its_state_wins() -> None:
    clock = FakeClock()
    window = make(clock, max_messages=2)
    original = message(body="typo")
    window.add(original, 0, 0)
    edited = change_of(original, body="fixed").applied_to(original)
    window.add(edited, 1, 0)  # type: ignore[arg-type]
    window.add(original, 2, 0)  # an older copy published again changes nothing
    (closed,) = window.add(message(body="next"), 3, 0)
    assert bodies(closed) == ["fixed", "next"]


def test_an_edit_of_a_buffered_message_is_in_the_burst() -> None:
    clock = FakeClock()
    window = make(clock)
    first, second = message(body="a"), message(body="b")
    window.add(first, 0, 0)
    window.add(second, 1, 0)
    change = change_of(second, body="b2")
    assert window.apply(change)
    clock.advance(3.0)
    (closed,) = window.close_due()
    assert bodies(closed) == ["a", "b2"]
    held = closed.burst.list_of_messages[1]
    assert held.revision == change.revision
    assert held.edited_at is not None
    assert not held.deleted


def test_a_deletion_wins_over_an_edit_that_comes_after_it_with_an_older_revision() -> None:
    clock = FakeClock()
    window = make(clock)
    sent = message(body="secret")
    window.add(sent, 0, 0)
    older_edit = change_of(sent, body="still secret")
    deletion = change_of(sent, "delete")
    assert window.apply(deletion)
    assert window.apply(older_edit)
    (closed,) = window.flush_all()
    (held,) = closed.burst.list_of_messages
    assert (held.deleted, held.body, held.revision) == (True, "", deletion.revision)


def test_a_later_edit_wins_whatever_order_the_edits_come_in() -> None:
    clock = FakeClock()
    window = make(clock)
    sent = message(body="v0")
    window.add(sent, 0, 0)
    earlier, later = change_of(sent, body="v1"), change_of(sent, body="v2")
    window.apply(later)
    window.apply(earlier)
    (closed,) = window.flush_all()
    assert bodies(closed) == ["v2"]


def test_a_change_of_a_message_no_buffer_holds_is_not_applied() -> None:
    clock = FakeClock()
    window = make(clock)
    window.add(message(CHAT_A, "1"), 0, 0)
    assert not window.apply(change_of(message(CHAT_A, "1")))  # same key, not held
    assert not window.apply(change_of(message(CHAT_B, "1")))  # no buffer of that key
    assert len(window) == 1


def test_a_change_does_not_keep_a_buffer_open() -> None:
    clock = FakeClock()
    window = make(clock, max_latency=None)
    sent = message()
    window.add(sent, 0, 0)
    clock.advance(2.0)
    window.apply(change_of(sent))
    assert window.next_deadline() == pytest.approx(1003.0)
    clock.advance(1.0)
    assert [c.reason for c in window.close_due()] == [FlushReason.IDLE]
