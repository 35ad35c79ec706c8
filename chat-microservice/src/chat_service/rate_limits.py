"""Anti-spam for sending: a per-user rate with a burst allowance, and repeated-body detection;
and a per-user rate of edits and deletions.

Counters live in Redis by default (`CHAT_RATE_LIMIT_STORAGE`), so that every worker process
and replica counts against one budget; `memory://` keeps them in this process, for a
single-process service. Sends are counted by the send gate's script (messages/send_gate.py),
edits and deletions through a `limits` storage.

When Redis does not answer (down, or slower than `CHAT_RATE_LIMIT_TIMEOUT`), both are
counted in this process's memory until it answers again: a spammer is still limited, per
process rather than overall, and chat keeps working. Losing Redis never loses a message.

A token bucket (rate r, burst b) is approximated by a moving window of b
messages per b/r seconds: a full burst is allowed at once, and the sustained rate cannot
exceed r. Unlike a true bucket, tokens come back all at once when the window slides past the
burst rather than one every 1/r seconds, which is stricter, never looser.
"""

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from chat_service.metrics import Metrics
from chat_service.settings import ChatSettings
from http_kit.limits_store import open_async_limits_storage

log = structlog.get_logger(__name__)

# While Redis is away, one send per this many seconds asks it again (and waits at most the
# timeout for it); every other send counts in memory without waiting.
PROBE_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: str = ""
    retry_after_seconds: int = 0


ALLOWED = Verdict(True)


def send_rate_item(rate_per_second: float, burst: int) -> RateLimitItem:
    """`burst` messages per `burst / rate` seconds (at least one second)."""
    window = max(1, round(burst / rate_per_second))
    return RateLimitItemPerSecond(burst, window, namespace="chat-send")


def body_fingerprint(body: str) -> str:
    """Repeats are compared on the trimmed, case-folded body; a hash keeps keys short."""
    normalized = " ".join(body.split()).casefold()
    return hashlib.sha256(normalized.encode()).hexdigest()


class Outage:
    """Whether a shared store is worth asking: while it does not answer, one caller per
    `PROBE_INTERVAL_SECONDS` asks again (and waits at most its timeout); every other caller
    counts elsewhere without waiting. Logs and counts each outage once."""

    def __init__(
        self, name: str, metrics: Metrics, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._name = name
        self._metrics = metrics
        self._clock = clock
        self.failing_since: float | None = None
        self._next_probe = 0.0

    def worth_asking(self) -> bool:
        if self.failing_since is None:
            return True
        now = self._clock()
        if now < self._next_probe:
            return False
        # Claimed before the await, so concurrent sends do not all probe a stalled store.
        self._next_probe = now + PROBE_INTERVAL_SECONDS
        return True

    def failed(self, error: Exception) -> None:
        self._next_probe = self._clock() + PROBE_INTERVAL_SECONDS
        if self.failing_since is not None:
            return
        self.failing_since = self._clock()
        self._metrics.rate_limit_fallback.set(1)
        self._metrics.rate_limit_store_outages.inc()
        # Once per outage: under load a line per send would flood the logs.
        log.warning(f"{self._name}_unavailable", error=str(error), counting="in_process_memory")

    def answered(self) -> None:
        if self.failing_since is None:
            return
        outage = self._clock() - self.failing_since
        self.failing_since = None
        self._metrics.rate_limit_fallback.set(0)
        log.info(f"{self._name}_recovered", outage_seconds=round(outage, 1))


class FailoverLimiter:
    """A moving-window limiter over the shared store that counts in this process's memory
    while the store does not answer, and goes back to the store once it answers again."""

    def __init__(
        self, shared: Storage, metrics: Metrics, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._shared = MovingWindowRateLimiter(shared)
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._outage = Outage("rate_limit_store", metrics, clock)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> int:
        """Counts one hit: 0 if it was allowed, else the seconds until the window has room."""
        if self._outage.worth_asking():
            try:
                answer = await _hit(self._shared, item, identifiers)
            except StorageError as error:
                self._outage.failed(error.storage_error)
            else:
                self._outage.answered()
                return answer
        return await _hit(self._local, item, identifiers)


async def _hit(
    limiter: MovingWindowRateLimiter, item: RateLimitItem, identifiers: tuple[str, ...]
) -> int:
    if await limiter.hit(item, *identifiers):
        return 0
    stats = await limiter.get_window_stats(item, *identifiers)
    return max(1, math.ceil(stats.reset_time - time.time()))


class SendLimits:
    """The windows of the limits, and where they count. Edits and deletions count in the
    shared store (failing over to memory while it does not answer). Sends count in Redis
    through the send gate (messages/send_gate.py), which asks `check_rate` and
    `check_repeat` here, counting in this process's memory, only while Redis does not answer."""

    def __init__(self, settings: ChatSettings, metrics: Metrics) -> None:
        self._shared = FailoverLimiter(open_async_limits_storage(settings), metrics)
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self.rate = send_rate_item(settings.send_rate_per_second, settings.send_burst)
        window = max(1, math.ceil(settings.repeat_body_window.total_seconds()))
        self.repeat = RateLimitItemPerSecond(
            settings.repeat_body_limit, window, namespace="chat-repeat"
        )
        self._change = RateLimitItemPerMinute(
            settings.change_rate_per_minute, namespace="chat-change"
        )

    async def check_rate(self, user_id: str) -> Verdict:
        """Counts one send attempt against the user's rate, in this process's memory."""
        retry_after = await _hit(self._memory, self.rate, (user_id,))
        return Verdict(False, "rate", retry_after) if retry_after else ALLOWED

    async def check_repeat(self, user_id: str, body: str) -> Verdict:
        """Counts one new message with this body, in this process's memory; refuses once the
        window holds too many."""
        retry_after = await _hit(self._memory, self.repeat, (user_id, body_fingerprint(body)))
        return Verdict(False, "repeat", retry_after) if retry_after else ALLOWED

    async def check_change(self, user_id: str) -> Verdict:
        """Counts one edit or deletion (a repeated one too: it publishes again)."""
        retry_after = await self._shared.hit(self._change, user_id)
        return Verdict(False, "change", retry_after) if retry_after else ALLOWED
