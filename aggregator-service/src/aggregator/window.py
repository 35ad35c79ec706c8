"""When a burst closes and what it holds: pure logic, no I/O, the clock is injected.

A buffer collects the messages of one (chat, sender) pair read from one partition. It closes
when it holds `max_messages`, when no message came for `idle_timeout`, or when it has been open
for `max_latency`. The window also remembers the offset of the first message of every open
buffer, so the Kafka shell never commits past a message that is still only in memory.

A buffer holds the state of each message that wins by `ChatMessage.change_order()`: an edit or
a deletion of a message still buffered replaces it, and so does a republished copy that is
newer; an older state never replaces a newer one.
"""

import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import cast

from chat_events import Burst, MessageChange, MessageEvent, burst_from_messages

BufferKey = tuple[uuid.UUID, str]
"""(chat_id, from_user): the correlation key of a burst."""

Clock = Callable[[], float]
"""Monotonic seconds; time.monotonic in production, a fake in tests."""


class FlushReason(StrEnum):
    MAX_MESSAGES = "max_messages"
    IDLE = "idle"
    MAX_LATENCY = "max_latency"
    CAPACITY = "capacity"
    REVOKED = "revoked"
    SHUTDOWN = "shutdown"


@dataclass(frozen=True)
class WindowPolicy:
    max_messages: int = 10
    idle_timeout: float = 3.0
    max_latency: float | None = 5.0
    """None keeps a buffer open as long as messages keep coming (the original's policy)."""
    max_open_buffers: int = 10_000
    max_open_per_partition: int = 64
    """Bounded because every open key of a partition is written into its commit metadata
    (the broker's offset.metadata.max.bytes, 4096 by default)."""

    def __post_init__(self) -> None:
        if self.max_messages < 1 or self.max_open_buffers < 1 or self.max_open_per_partition < 1:
            raise ValueError("max_messages and the buffer caps must be at least 1")
        if self.idle_timeout <= 0 or (self.max_latency is not None and self.max_latency <= 0):
            raise ValueError("idle_timeout and max_latency must be positive")


@dataclass
class _Buffer:
    partition: int
    first_offset: int
    opened_at: float
    last_message_at: float
    opening: int
    """How many buffers this window opened before this one: the order bursts close in."""
    messages: list[MessageEvent] = field(default_factory=list)

    def position_of(self, message_id: uuid.UUID) -> int | None:
        return next(
            (i for i, held in enumerate(self.messages) if held.message_id == message_id), None
        )


@dataclass(frozen=True)
class ClosedBurst:
    burst: Burst
    reason: FlushReason
    partition: int
    first_offset: int
    open_seconds: float


class BurstWindow:
    """Open buffers keyed by (chat, sender); closed buffers are handed out and forgotten.

    Every buffer is in three orders, so that nothing a message or a turn of the loop asks
    costs a pass over all of them: opening order (the first buffer reaches its maximum
    latency first), opening order within its partition (the one the partition's cap closes)
    and order of its last message (the first buffer falls idle first)."""

    def __init__(self, policy: WindowPolicy, clock: Clock) -> None:
        self._policy = policy
        self._clock = clock
        self._buffers: OrderedDict[BufferKey, _Buffer] = OrderedDict()
        self._by_partition: dict[int, OrderedDict[BufferKey, _Buffer]] = {}
        self._by_activity: OrderedDict[BufferKey, _Buffer] = OrderedDict()
        self._openings = 0
        self._last_now = clock()

    def __len__(self) -> int:
        return len(self._buffers)

    @property
    def clock(self) -> Clock:
        """The clock deadlines are measured on; whoever waits for `next_deadline` reads it."""
        return self._clock

    def add(self, message: MessageEvent, offset: int, partition: int) -> list[ClosedBurst]:
        """Buffers a message; returns the bursts it closes (its own, or the oldest on overflow)."""
        now = self._now()
        key: BufferKey = (message.chat_id, message.from_user)
        closed: list[ClosedBurst] = []
        buffer = self._buffers.get(key)
        reason = None if buffer is None else self._due_reason(buffer, now)
        if reason is not None:
            closed.append(self._close(key, reason, now))
            buffer = None
        if buffer is None:
            closed.extend(self._make_room(partition, now))
            buffer = self._open(key, partition, offset, now)
        elif (held := buffer.position_of(message.message_id)) is not None:
            # The chat service may publish a message twice (a retried send whose first publish
            # was acknowledged but not recorded, or one republished with its latest state);
            # one burst never shows it twice, and shows the state that wins.
            if message.change_order() > buffer.messages[held].change_order():
                buffer.messages[held] = message
            return closed
        buffer.messages.append(message)
        buffer.last_message_at = now
        self._by_activity.move_to_end(key)
        if len(buffer.messages) >= self._policy.max_messages:
            closed.append(self._close(key, FlushReason.MAX_MESSAGES, now))
        return closed

    def apply(self, change: MessageChange) -> bool:
        """Applies an edit or a deletion to its message if an open buffer holds it; True if one
        does (whether or not the change won). Timers are left alone: a change is no message."""
        buffer = self._buffers.get((change.chat_id, change.from_user))
        held = None if buffer is None else buffer.position_of(change.message_id)
        if buffer is None or held is None:
            return False
        # `applied_to` copies the message it is given, so an event stays an event.
        buffer.messages[held] = cast(MessageEvent, change.applied_to(buffer.messages[held]))
        return True

    def close_due(self) -> list[ClosedBurst]:
        """Closes every buffer whose idle timeout or maximum latency has passed."""
        now = self._now()
        due: dict[BufferKey, FlushReason] = {}
        latency = self._policy.max_latency
        if latency is not None:
            for key, buf in self._buffers.items():
                if now - buf.opened_at < latency:
                    break
                due[key] = FlushReason.MAX_LATENCY
        for key, buf in self._by_activity.items():
            if now - buf.last_message_at < self._policy.idle_timeout:
                break
            due.setdefault(key, FlushReason.IDLE)
        in_opening_order = sorted(due, key=lambda key: self._buffers[key].opening)
        return [self._close(key, due[key], now) for key in in_opening_order]

    def next_deadline(self) -> float | None:
        """Clock time at which the next buffer falls due, None when nothing is open."""
        if not self._buffers:
            return None
        idle = next(iter(self._by_activity.values())).last_message_at + self._policy.idle_timeout
        if self._policy.max_latency is None:
            return idle
        return min(idle, next(iter(self._buffers.values())).opened_at + self._policy.max_latency)

    def flush_partitions(
        self, partitions: Iterable[int], reason: FlushReason = FlushReason.REVOKED
    ) -> list[ClosedBurst]:
        """Closes every buffer read from the given partitions (revocation, shutdown)."""
        wanted = set(partitions)
        now = self._now()
        keys = [key for key, buf in self._buffers.items() if buf.partition in wanted]
        return [self._close(key, reason, now) for key in keys]

    def flush_all(self, reason: FlushReason = FlushReason.SHUTDOWN) -> list[ClosedBurst]:
        return self.flush_partitions(set(self._by_partition), reason)

    def clear(self) -> None:
        """Forgets every buffer without emitting it: the messages will be read again."""
        self._buffers.clear()
        self._by_partition.clear()
        self._by_activity.clear()

    def earliest_offsets(self) -> dict[int, int]:
        """Per partition, the offset of the first message still held in a buffer."""
        earliest: dict[int, int] = {}
        for buf in self._buffers.values():
            current = earliest.get(buf.partition)
            if current is None or buf.first_offset < current:
                earliest[buf.partition] = buf.first_offset
        return earliest

    def open_keys(self) -> dict[int, dict[BufferKey, int]]:
        """Per partition, the keys still open, each with the offset its buffer started at. One
        pass over the buffers for every partition: a commit asks for all of them at once, and
        a pass per partition would cost partitions x buffers with the event loop held."""
        by_partition: dict[int, dict[BufferKey, int]] = {}
        for key, buf in self._buffers.items():
            by_partition.setdefault(buf.partition, {})[key] = buf.first_offset
        return by_partition

    def _now(self) -> float:
        now = self._clock()
        if now < self._last_now:
            # The clock went backwards: pull every timestamp back to `now`, so a buffer closes at
            # most one timeout after the jump instead of waiting for the clock to catch up.
            # Taking the minimum with one value keeps every order the buffers are kept in.
            for buf in self._buffers.values():
                buf.opened_at = min(buf.opened_at, now)
                buf.last_message_at = min(buf.last_message_at, now)
        self._last_now = now
        return now

    def _due_reason(self, buf: _Buffer, now: float) -> FlushReason | None:
        latency = self._policy.max_latency
        if latency is not None and now - buf.opened_at >= latency:
            return FlushReason.MAX_LATENCY
        if now - buf.last_message_at >= self._policy.idle_timeout:
            return FlushReason.IDLE
        return None

    def _make_room(self, partition: int, now: float) -> list[ClosedBurst]:
        closed: list[ClosedBurst] = []
        in_partition = self._by_partition.get(partition)
        if in_partition and len(in_partition) >= self._policy.max_open_per_partition:
            closed.append(self._close(next(iter(in_partition)), FlushReason.CAPACITY, now))
        if len(self._buffers) >= self._policy.max_open_buffers:
            closed.append(self._close(next(iter(self._buffers)), FlushReason.CAPACITY, now))
        return closed

    def _open(self, key: BufferKey, partition: int, offset: int, now: float) -> _Buffer:
        buffer = _Buffer(
            partition=partition,
            first_offset=offset,
            opened_at=now,
            last_message_at=now,
            opening=self._openings,
        )
        self._openings += 1
        self._buffers[key] = buffer
        self._by_partition.setdefault(partition, OrderedDict())[key] = buffer
        self._by_activity[key] = buffer
        return buffer

    def _close(self, key: BufferKey, reason: FlushReason, now: float) -> ClosedBurst:
        buffer = self._buffers.pop(key)
        del self._by_activity[key]
        in_partition = self._by_partition[buffer.partition]
        del in_partition[key]
        if not in_partition:
            del self._by_partition[buffer.partition]
        return ClosedBurst(
            burst=burst_from_messages(
                buffer.messages, origin=f"{buffer.partition}-{buffer.first_offset}"
            ),
            reason=reason,
            partition=buffer.partition,
            first_offset=buffer.first_offset,
            open_seconds=max(0.0, now - buffer.opened_at),
        )
