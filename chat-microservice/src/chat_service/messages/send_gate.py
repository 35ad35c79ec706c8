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
them), `claim:<chat>:<key>` (`<time>|<bucket>|<published 0/1>`) and `claims-since` (when this
Redis began holding claims, in ms).

Redis keeps claims with its append-only file, so a crash of the Redis process loses none.
Each claim also has a plain durable copy in Cassandra (`message_ids`, written with the
message). The copy is read only while the claims in Redis may be incomplete: for one claim
window after `claims-since` (a Redis that lost its data, or a new one), and after this process
counted in memory because Redis did not answer (it then starts the window again). While Redis
does not answer, the limits count in this process's memory (`SendLimits`) and the claims are
kept in memory and checked against the copy.
"""

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from cachetools import TTLCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from chat_service.messages.repository import Claim
from chat_service.metrics import ChatMetrics
from chat_service.rate_limits import Outage, SendLimits, Verdict, body_fingerprint
from chat_service.settings import ChatSettings

log = structlog.get_logger(__name__)

# KEYS: rate, repeat, claim ('' for a send without a key), claims-since.
# ARGV: rate limit, rate window ms, repeat limit, repeat window ms, claim value, claim window
# ms, whether the durable copy was read ('1'), a claim found there (''), restart the window.
# Answers {verdict, number or claim}: 'ok', 'rate' or 'repeat' (ms to wait), 'claimed' (the
# key's claim), 'cold' (the durable copy must be read first; nothing was counted).
_ADMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window = tonumber(ARGV[6])
local since = tonumber(redis.call('GET', KEYS[4]))
if since == nil or ARGV[9] == '1' then
  since = now
  redis.call('SET', KEYS[4], now)
end
if KEYS[3] ~= '' and ARGV[7] ~= '1' and now - since < window then return {'cold', since} end
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
return {'ok', since}
"""


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
    """Where the durable copy of each claim is read (the message repository)."""

    async def find_claim(self, chat_id: uuid.UUID, client_message_id: str) -> Claim | None:
        """The copy of the key's claim, if its message was written."""
        ...


class SendGate:
    def __init__(
        self,
        settings: ChatSettings,
        redis: Redis | None,
        limits: SendLimits,
        durable: DurableClaims,
        metrics: ChatMetrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._limits = limits
        self._durable = durable
        self._outage = Outage("send_gate", metrics, clock)
        self._clock = clock
        self._prefix = settings.rate_limit_prefix
        self._window_ms = round(settings.claim_window.total_seconds() * 1000)
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
        # Until when (monotonic) the claims in Redis may be incomplete: the copy is read.
        self._cold_until: float | None = None
        # Whether a claim was taken here while Redis did not answer: Redis lacks it, so its
        # window starts again (for every replica) once it answers.
        self._claimed_locally = False
        if redis is not None:
            self._admit = redis.register_script(_ADMIT)

    async def admit(self, attempt: Attempt) -> Admission:
        """Counts the attempt and, for a new message, takes its key with `attempt.proposed`."""
        if self._redis is not None and self._outage.worth_asking():
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
        if self._redis is None or self._outage.failing_since is not None:
            return
        try:
            await self._redis.set(
                self._claim_key(attempt), published.encoded(), xx=True, keepttl=True
            )
        except RedisError as error:
            log.warning("mark_published_failed", error=str(error))

    async def _admit_shared(self, attempt: Attempt) -> Admission:
        restart = self._claimed_locally
        keyed = attempt.client_message_id is not None
        checked = not keyed or self._cold()
        known = await self._find_copy(attempt) if keyed and checked else None
        answer = await self._run(attempt, checked, known, restart)
        if answer[0] == "cold":
            # Redis began holding claims less than a window ago: read the copy, ask again.
            self._note_since(int(answer[1]))
            answer = await self._run(attempt, True, await self._find_copy(attempt), False)
        self._outage.answered()
        self._claimed_locally = False
        verdict, value = answer
        if verdict == "ok":
            self._note_since(int(value))
            return Admission(Verdict(True))
        if verdict == "claimed":
            return Admission(Verdict(True), Claim.decoded(value))
        return Admission(Verdict(False, verdict, max(1, math.ceil(int(value) / 1000))))

    async def _run(
        self, attempt: Attempt, checked: bool, known: Claim | None, restart: bool
    ) -> tuple[str, str]:
        keys = [
            f"{self._prefix}:send-rate:{attempt.user_id}",
            f"{self._prefix}:send-repeat:{attempt.user_id}:{body_fingerprint(attempt.body)}",
            self._claim_key(attempt) if attempt.client_message_id is not None else "",
            f"{self._prefix}:claims-since",
        ]
        args = [
            *self._limit_args,
            attempt.proposed.encoded(),
            self._window_ms,
            "1" if checked else "0",
            known.encoded() if known else "",
            "1" if restart else "0",
        ]
        verdict, value = await self._admit(keys=keys, args=args)
        return str(verdict), str(value)

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
            self._claimed_locally = self._redis is not None
        return Admission(repeat)

    async def _find_copy(self, attempt: Attempt) -> Claim | None:
        assert attempt.client_message_id is not None
        return await self._durable.find_claim(attempt.chat_id, attempt.client_message_id)

    def _claim_key(self, attempt: Attempt) -> str:
        return f"{self._prefix}:claim:{attempt.chat_id}:{attempt.client_message_id}"

    def _cold(self) -> bool:
        return self._cold_until is None or self._clock() < self._cold_until

    def _note_since(self, since_ms: int) -> None:
        """Turns Redis's `claims-since` into a deadline on this process's clock."""
        age = time.time() - since_ms / 1000
        self._cold_until = self._clock() + max(0.0, self._window_ms / 1000 - age)
