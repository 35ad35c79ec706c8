"""Whether a send may go ahead, in one Redis round trip: the sender's rate, the claim of its
`client_message_id`, and the repeated-body limit (docs/decisions/0002-sends-without-paxos.md).

One Lua script does the three in order, atomically (two replicas never interleave inside it):

1. the attempt counts against the sender's rate (every attempt, a retry too);
2. a key already claimed answers with the claim: the request is a repeat of that message;
3. a new message counts against the repeated-body limit, and only if it is allowed does it
   take the key (`SET`, with the claim window as expiry), so a refused body leaves the key
   free for a later send.

Keys, under the service's Redis prefix: `send-rate:<user>` and `send-repeat:<user>:<body
hash>` (moving windows: a list of the hits' times in ms, newest first, as `limits` keeps
them), `claim:<chat>:<key>` (`<time>|<bucket>|<published 0/1>`) and `claims-checked-until`
(ms: until when a new claim must first be looked up in the durable copy).

Redis keeps claims in its append-only file, so a crash of the Redis process loses none. Each
claim also has a durable copy in Cassandra at no cost: its message's row, which holds the key
and is found by it (an index of `messages` on `client_message_id`, read within the message's
bucket). The copy is read only while Redis may lack claims of the last window:

- A Redis without `claims-checked-until` (new, or emptied) may have lost claims up to the
  last time a replica noted in Cassandra that it took one (`claim_stores.seen`, at most once
  a `HEARTBEAT` per process), so the copy is read until one claim window after that; a
  deployment that never took a claim reads nothing.
- A process that took claims in memory while Redis did not answer pushes the mark to one
  window from now once it answers: Redis lacks those claims.

While Redis does not answer, the limits count in this process's memory (`SendLimits`) and the
claims are kept in memory and checked against the copy.
"""

import hashlib
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from cachetools import TTLCache
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError, ResponseError

from chat_service.messages.repository import Claim
from chat_service.metrics import Metrics
from chat_service.rate_limits import Outage, SendLimits, Verdict, body_fingerprint
from chat_service.settings import ChatSettings
from chat_service.turns import TurnGroup

log = structlog.get_logger(__name__)

# How often each process notes in Cassandra that it takes claims in Redis.
HEARTBEAT = timedelta(minutes=1)


class LuaScript:
    """A script's text and the SHA-1 Redis knows it by."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


# KEYS: rate, repeat, claim ('' for a send without a key), claims-checked-until.
# ARGV: rate limit, rate window ms, repeat limit, repeat window ms, claim value, claim window
# ms, whether the durable copy was read ('1'), a claim found there (''), a checked-until to
# set if there is none (''), whether to push it to a window from now ('1').
# Answers {verdict, number or claim}: 'ok' (checked-until), 'rate' or 'repeat' (ms to wait),
# 'claimed' (the key's claim), and for a send with a key 'unknown' (no checked-until: the
# caller brings one) or 'cold' (checked-until: the copy must be read first), with nothing
# counted.
_ADMIT = LuaScript("""
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[6])
if ARGV[10] == '1' then
  local pushed = math.max(tonumber(redis.call('GET', KEYS[4]) or 0), now + window)
  redis.call('SET', KEYS[4], string.format('%d', pushed))
elseif ARGV[9] ~= '' then
  redis.call('SET', KEYS[4], ARGV[9], 'NX')
end
local checked_until = tonumber(redis.call('GET', KEYS[4]))
if KEYS[3] ~= '' then
  if checked_until == nil then return {'unknown', 0} end
  if ARGV[7] ~= '1' and now < checked_until then return {'cold', checked_until} end
end
local function wait(key, limit, span)
  local oldest = redis.call('LINDEX', key, limit - 1)
  if oldest and now - tonumber(oldest) < span then return span - (now - tonumber(oldest)) end
  return 0
end
local function hit(key, limit, span)
  redis.call('LPUSH', key, now)
  redis.call('LTRIM', key, 0, limit - 1)
  redis.call('PEXPIRE', key, span)
end
local rate_limit, rate_span = tonumber(ARGV[1]), tonumber(ARGV[2])
local waited = wait(KEYS[1], rate_limit, rate_span)
if waited > 0 then return {'rate', waited} end
hit(KEYS[1], rate_limit, rate_span)
if KEYS[3] ~= '' then
  local held = redis.call('GET', KEYS[3])
  if held then return {'claimed', held} end
  if ARGV[8] ~= '' then
    redis.call('SET', KEYS[3], ARGV[8], 'PX', window)
    return {'claimed', ARGV[8]}
  end
end
local repeat_limit, repeat_span = tonumber(ARGV[3]), tonumber(ARGV[4])
waited = wait(KEYS[2], repeat_limit, repeat_span)
if waited > 0 then return {'repeat', waited} end
hit(KEYS[2], repeat_limit, repeat_span)
if KEYS[3] ~= '' then redis.call('SET', KEYS[3], ARGV[5], 'PX', window) end
return {'ok', checked_until or 0}
""")


@dataclass(frozen=True)
class Attempt:
    """One send as the gate sees it: who, where, the key, the body, and the claim it would
    take (the new message's time and bucket)."""

    user_id: str
    chat_id: uuid.UUID
    client_message_id: str | None
    body: str
    proposed: Claim

    @property
    def key(self) -> tuple[uuid.UUID, str | None]:
        return self.chat_id, self.client_message_id


@dataclass(frozen=True)
class Admission:
    """The gate's answer: refused (`verdict`), a repeat of `claim`, or a new message."""

    verdict: Verdict
    claim: Claim | None = None

    @property
    def repeat(self) -> bool:
        return self.claim is not None


class DurableClaims(Protocol):
    """The durable copy of the claims (the message repository)."""

    async def find_claim(
        self, chat_id: uuid.UUID, client_message_id: str, buckets: Sequence[int]
    ) -> Claim | None:
        """The copy of the key's claim (its message, in one of `buckets`), if written."""
        ...

    async def claims_seen(self, store: str) -> datetime | None:
        """The last time a replica noted taking a claim in `store` (None: never)."""
        ...

    async def note_claims_seen(self, store: str) -> None:
        """Notes that a claim was just taken in `store`."""
        ...


class SendGate:
    def __init__(
        self,
        settings: ChatSettings,
        redis: Redis | None,
        limits: SendLimits,
        durable: DurableClaims,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = limits
        self._durable = durable
        self._outage = Outage("send_gate", metrics, clock)
        self._clock = clock
        self._prefix = settings.rate_limit_prefix
        self._window = settings.claim_window
        self._limit_args = (
            limits.rate.amount,
            limits.rate.get_expiry() * 1000,
            limits.repeat.amount,
            limits.repeat.get_expiry() * 1000,
        )
        # Claims taken while Redis did not answer (checked against the copy as well).
        self._local: TTLCache[tuple[uuid.UUID, str | None], Claim] = TTLCache(
            maxsize=100_000, ttl=settings.claim_window.total_seconds()
        )
        # Redis's `claims-checked-until` as last seen (epoch ms): until then the copy is read
        # before the script is asked (it answers 'cold' in any case).
        self._checked_until_ms = 0
        # Whether a claim was taken here while Redis did not answer: Redis lacks it, so the
        # copy is read for one window (by every replica) once it answers.
        self._claimed_locally = False
        self._next_heartbeat = 0.0
        # The gate's scripts and the published marks, each turn's in one round trip.
        self._pipeline = None if redis is None else TurnPipeline(redis)

    async def admit(self, attempt: Attempt) -> Admission:
        """Counts the attempt and, for a new message, takes its key with `attempt.proposed`."""
        if self._pipeline is not None and self._outage.worth_asking():
            try:
                return await self._admit_shared(attempt)
            except RedisError as error:
                self._outage.failed(error)
        return await self._admit_local(attempt)

    async def mark_published(self, attempt: Attempt, claim: Claim) -> None:
        """Notes that the key's message reached Kafka, so a repeat does not publish it again.
        Best effort: a lost mark only costs a repeat a second publish."""
        if attempt.client_message_id is None:
            return
        published = Claim(claim.time, claim.bucket, published=True)
        if attempt.key in self._local:
            self._local[attempt.key] = published
        if self._pipeline is None or self._outage.failing_since is not None:
            return
        key = self._claim_key(attempt)
        try:  # only while the claim is still held: a mark never makes a claim
            await self._pipeline.command("SET", key, published.encoded(), "XX", "KEEPTTL")
        except RedisError as error:
            log.warning("mark_published_failed", error=str(error))

    async def _admit_shared(self, attempt: Attempt) -> Admission:
        keyed = attempt.client_message_id is not None
        checked = not keyed or time.time() * 1000 < self._checked_until_ms
        ask = _Ask(checked, await self._find_copy(attempt) if keyed and checked else None)
        ask.push = self._claimed_locally
        verdict, value = await self._run(attempt, ask)
        if verdict == "unknown":
            # A new or emptied Redis: how long its claims may be incomplete comes from Cassandra.
            ask.until = await self._checked_until_from_copy()
            verdict, value = await self._run(attempt, ask)
        if verdict == "cold":
            self._checked_until_ms = int(value)
            ask = _Ask(True, await self._find_copy(attempt))
            verdict, value = await self._run(attempt, ask)
        self._outage.answered()
        self._claimed_locally = False
        if verdict == "ok":
            self._checked_until_ms = int(value)
            if keyed:
                await self._heartbeat()
            return Admission(Verdict(True))
        if verdict == "claimed":
            return Admission(Verdict(True), Claim.decoded(value))
        return Admission(Verdict(False, verdict, max(1, math.ceil(int(value) / 1000))))

    async def _run(self, attempt: Attempt, ask: "_Ask") -> tuple[str, str]:
        keys = [
            f"{self._prefix}:send-rate:{attempt.user_id}",
            f"{self._prefix}:send-repeat:{attempt.user_id}:{body_fingerprint(attempt.body)}",
            self._claim_key(attempt) if attempt.client_message_id is not None else "",
            f"{self._prefix}:claims-checked-until",
        ]
        args = [
            *self._limit_args,
            attempt.proposed.encoded(),
            round(self._window.total_seconds() * 1000),
            "1" if ask.checked else "0",
            ask.known.encoded() if ask.known else "",
            "" if ask.until is None else ask.until,
            "1" if ask.push else "0",
        ]
        assert self._pipeline is not None
        verdict, value = await self._pipeline.script(_ADMIT, keys, args)
        return str(verdict), str(value)

    async def _checked_until_from_copy(self) -> int:
        """One window after the last noted claim, plus the heartbeat it may lag by; 0 (read
        nothing) when no claim was ever noted."""
        seen = await self._durable.claims_seen(self._prefix)
        if seen is None:
            return 0
        return round((seen + self._window + 2 * HEARTBEAT).timestamp() * 1000)

    async def _heartbeat(self) -> None:
        """Notes in Cassandra, at most once a HEARTBEAT, that this process takes claims."""
        now = self._clock()
        if now < self._next_heartbeat:
            return
        self._next_heartbeat = now + HEARTBEAT.total_seconds()
        await self._durable.note_claims_seen(self._prefix)

    async def _admit_local(self, attempt: Attempt) -> Admission:
        rate = await self._limits.check_rate(attempt.user_id)
        if not rate.allowed:
            return Admission(rate)
        if attempt.client_message_id is not None:
            held = self._local.get(attempt.key) or await self._find_copy(attempt)
            if held is not None:
                self._local[attempt.key] = held
                return Admission(Verdict(True), held)
        repeat = await self._limits.check_repeat(attempt.user_id, attempt.body)
        if repeat.allowed and attempt.client_message_id is not None:
            self._local[attempt.key] = attempt.proposed
            self._claimed_locally = self._pipeline is not None
        return Admission(repeat)

    async def _find_copy(self, attempt: Attempt) -> Claim | None:
        """The claim's copy: a message of the window is in the bucket of now or the one
        before (a window is never longer than a bucket)."""
        assert attempt.client_message_id is not None
        bucket = attempt.proposed.bucket
        return await self._durable.find_claim(
            attempt.chat_id, attempt.client_message_id, (bucket, bucket - 1)
        )

    def _claim_key(self, attempt: Attempt) -> str:
        return f"{self._prefix}:claim:{attempt.chat_id}:{attempt.client_message_id}"


class TurnPipeline:
    """Sends the Redis commands issued in one turn of the event loop in one pipelined round trip.

    A command joins the open batch; the batch is written at the loop's next turn
    (`TurnGroup`), and each caller waits for its own answer (a failed round trip is every
    caller's error). Under load, the sends that one read of the HTTP sockets
    starts reach the gate in the same turn, and the sends that one Kafka acknowledgement
    resumes reach their marks in the same turn: one round trip serves each group.

    Scripts run by their SHA-1 (`EVALSHA`). A Redis that lacks one (restarted without its
    scripts, emptied, `SCRIPT FLUSH`) is given it once and the batch's refused calls run again,
    with no extra round trip while Redis holds it (redis-py's own scripts in a pipeline ask
    `SCRIPT EXISTS` every time)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._group: TurnGroup[_Command] = TurnGroup(self._write)

    async def script(self, script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Runs `script` with `keys` and `args`; its answer, or the error Redis gave."""
        return await self._group.join(
            _Command(("EVALSHA", script.sha, len(keys), *keys, *args), script)
        )

    async def command(self, *args: Any) -> Any:
        """Runs one command (`"SET", key, value, ...`); its answer, or the error Redis gave."""
        return await self._group.join(_Command(args, None))

    async def _write(self, batch: list["_Command"]) -> list[Any]:
        answers = await self._pipeline(batch)
        refused = [n for n, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
        if refused:
            for script in {batch[n].script for n in refused}:
                if script is not None:
                    await self._redis.script_load(script.text)
            again = await self._pipeline([batch[n] for n in refused])
            for n, answer in zip(refused, again, strict=True):
                answers[n] = answer
        return answers

    async def _pipeline(self, batch: Sequence["_Command"]) -> list[Any]:
        """The answers of `batch`, a refusal as its error; a lone command is sent as itself (a
        pipeline costs it about a third more CPU)."""
        if len(batch) == 1:
            try:
                return [await self._redis.execute_command(*batch[0].args)]  # type: ignore[no-untyped-call]
            except ResponseError as error:
                return [error]
        async with self._redis.pipeline(transaction=False) as pipeline:
            for command in batch:
                pipeline.execute_command(*command.args)
            return await pipeline.execute(raise_on_error=False)


@dataclass(frozen=True)
class _Command:
    args: tuple[Any, ...]
    script: LuaScript | None  # what to load if Redis does not know the script


@dataclass
class _Ask:
    """What the script is told besides the attempt."""

    checked: bool  # the copy was read
    known: Claim | None  # the claim found there
    until: int | None = None  # a checked-until to set where there is none
    push: bool = False  # push checked-until to one window from now
