"""Read marks between two writes of one (user, chat), kept in Redis until their window ends.

Keys, under the service's Redis prefix:

- `<prefix>:read-gate:<user>:<chat>`: set (`NX PX read_window`) by the write of a mark; while
  it lives, further marks of that pair wait.
- `<prefix>:read-pending:<user>`: a hash chat -> the highest mark waiting (one `HGETALL` gives
  a chat list all of a user's pending marks).
- `<prefix>:read-due`: a sorted set of `<user> <chat>` by the time (ms) its window ends; any
  replica's flusher takes the due ones, each exactly once.

Every decision is one Lua script, so two replicas never interleave inside one. Marks are
stored as the TimeUUID's timestamp in fixed-width hex followed by the TimeUUID, so that
comparing the strings compares the marks by time.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chat_service.settings import ChatSettings
from http_kit.limits_store import redis_connection_options

log = structlog.get_logger(__name__)

# Takes the window if it is free (the caller then writes the returned mark: this one, or a
# higher one still pending); otherwise keeps the highest mark pending, due when the window
# ends. KEYS: gate, pending hash, due set. ARGV: chat, mark, due member, window ms.
_OFFER = """
local pending = redis.call('HGET', KEYS[2], ARGV[1])
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[4]) then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[3])
  if pending and pending > ARGV[2] then return {1, pending} end
  return {1, ARGV[2]}
end
if (not pending) or ARGV[2] > pending then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  pending = ARGV[2]
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[3], 'NX', now[1] * 1000 + math.floor(now[2] / 1000) + ttl, ARGV[3])
return {0, pending}
"""

# Removes and returns up to ARGV[1] due members: atomic, so exactly one replica takes each.
_TAKE_DUE = """
local now = redis.call('TIME')
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now[1] * 1000 + math.floor(now[2] / 1000),
  'LIMIT', 0, ARGV[1])
for _, member in ipairs(due) do redis.call('ZREM', KEYS[1], member) end
return due
"""

# After a flushed mark was written: starts its window again and forgets the mark unless a
# higher one came meanwhile, which then waits for the new window's end.
# KEYS: gate, pending hash, due set. ARGV: chat, written mark, due member, window ms.
_WRITTEN = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[4])
local pending = redis.call('HGET', KEYS[2], ARGV[1])
if pending == ARGV[2] then
  redis.call('HDEL', KEYS[2], ARGV[1])
elseif pending then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[3], now[1] * 1000 + math.floor(now[2] / 1000) + ARGV[4], ARGV[3])
end
"""

# Puts a mark back after its write failed: pending again, due after `ARGV[4]` ms.
_RETRY = """
local pending = redis.call('HGET', KEYS[2], ARGV[1])
if (not pending) or ARGV[2] > pending then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
local now = redis.call('TIME')
redis.call('ZADD', KEYS[3], 'NX', now[1] * 1000 + math.floor(now[2] / 1000) + ARGV[4], ARGV[3])
"""

_HEX_TICKS = 15  # a TimeUUID's timestamp has 60 bits


class MarksStoreUnavailable(Exception):
    """Redis did not answer: marks are written through meanwhile."""


@dataclass(frozen=True)
class Offer:
    """What to do with a mark: write `mark` now, or nothing (`mark` is the highest pending)."""

    write_now: bool
    mark: uuid.UUID


@dataclass(frozen=True)
class DueMark:
    user_id: str
    chat_id: uuid.UUID
    mark: uuid.UUID


def open_redis(settings: ChatSettings) -> Redis | None:
    """A client of the Redis that holds the rate limits, with their timeouts and retry; None
    when the limits are kept in memory (there is no Redis: marks are written through)."""
    uri = settings.rate_limit_storage.removeprefix("async+")
    if not uri.startswith(("redis://", "rediss://")):
        return None
    options = redis_connection_options(timeout=settings.rate_limit_timeout, asynchronous=True)
    return Redis.from_url(uri, decode_responses=True, **options)


class PendingMarks:
    def __init__(self, redis: Redis | None, prefix: str, window: timedelta) -> None:
        self._redis = redis
        self._prefix = prefix
        self._window_ms = max(1, round(window.total_seconds() * 1000))
        self._down_since: float | None = None
        if redis is not None:
            self._offer = redis.register_script(_OFFER)
            self._take_due = redis.register_script(_TAKE_DUE)
            self._written = redis.register_script(_WRITTEN)
            self._retry = redis.register_script(_RETRY)

    async def offer(self, user_id: str, chat_id: uuid.UUID, mark: uuid.UUID) -> Offer:
        if self._redis is None:
            return Offer(True, mark)
        keys, member = self._keys(user_id, chat_id), _member(user_id, chat_id)
        args: list[str | int] = [str(chat_id), _encode(mark), member, self._window_ms]
        write_now, value = await self._call(self._offer(keys=keys, args=args))
        return Offer(bool(write_now), _decode(value))

    async def pending_of(self, user_id: str, chat_id: uuid.UUID) -> uuid.UUID | None:
        if self._redis is None:
            return None
        value = await self._call(self._redis.hget(self._pending_key(user_id), str(chat_id)))
        return _decode(value) if value else None

    async def pending_for(self, user_id: str) -> dict[uuid.UUID, uuid.UUID]:
        """The user's pending marks by chat; none while Redis does not answer (a chat list
        then shows the written marks only)."""
        if self._redis is None:
            return {}
        try:
            marks = await self._call(self._redis.hgetall(self._pending_key(user_id)))
        except MarksStoreUnavailable:
            return {}
        return {uuid.UUID(chat): _decode(value) for chat, value in marks.items()}

    async def take_due(self, most: int) -> list[DueMark]:
        """Removes up to `most` marks whose window has ended; this replica alone writes them."""
        if self._redis is None:
            return []
        members = await self._call(self._take_due(keys=[self._due_key()], args=[most]))
        pairs = [member.split(" ", 1) for member in members]
        # Their marks in one round trip, not one per mark.
        pipe = self._redis.pipeline(transaction=False)
        for user_id, chat in pairs:
            pipe.hget(self._pending_key(user_id), chat)
        values = await self._call(pipe.execute()) if pairs else []
        return [
            DueMark(user_id, uuid.UUID(chat), _decode(value))
            for (user_id, chat), value in zip(pairs, values, strict=True)
            if value  # else written meanwhile by a mark that found the window free
        ]

    async def written(self, due: DueMark) -> None:
        """A taken mark is stored and published: its window starts again."""
        await self._settle(self._written, due, self._window_ms)

    async def retry_later(self, due: DueMark) -> None:
        """A taken (or offered) mark could not be written: pending again, due in a window."""
        await self._settle(self._retry, due, self._window_ms)

    async def _settle(self, script: Any, due: DueMark, delay_ms: int) -> None:
        if self._redis is None:
            return
        keys = self._keys(due.user_id, due.chat_id)
        member = _member(due.user_id, due.chat_id)
        args: list[str | int] = [str(due.chat_id), _encode(due.mark), member, delay_ms]
        await self._call(script(keys=keys, args=args))

    async def _call(self, pending: Any) -> Any:
        try:
            answer = await pending
        except (RedisError, OSError) as error:
            self._failed(error)
            raise MarksStoreUnavailable(repr(error)) from error
        if self._down_since is not None:
            log.info(
                "read_marks_store_recovered",
                outage_seconds=round(time.monotonic() - self._down_since, 1),
            )
            self._down_since = None
        return answer

    def _failed(self, error: Exception) -> None:
        if self._down_since is None:  # once per outage: a line per mark would flood the logs
            self._down_since = time.monotonic()
            log.warning("read_marks_store_unavailable", error=repr(error), marks="written_through")

    def _keys(self, user_id: str, chat_id: uuid.UUID) -> list[str]:
        gate = f"{self._prefix}:read-gate:{user_id}:{chat_id}"
        return [gate, self._pending_key(user_id), self._due_key()]

    def _pending_key(self, user_id: str) -> str:
        return f"{self._prefix}:read-pending:{user_id}"

    def _due_key(self) -> str:
        return f"{self._prefix}:read-due"


def _member(user_id: str, chat_id: uuid.UUID) -> str:
    return f"{user_id} {chat_id}"


def _encode(mark: uuid.UUID) -> str:
    return f"{mark.time:0{_HEX_TICKS}x}{mark}"


def _decode(value: str) -> uuid.UUID:
    return uuid.UUID(value[_HEX_TICKS:])
