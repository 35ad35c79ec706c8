"""Anti-spam for sending: a per-user rate with a burst allowance, and repeated-body detection.

Counters live in a `limits` storage: Redis by default (`CHAT_RATE_LIMIT_STORAGE`), so that
every worker process and replica counts against one budget; `memory://` keeps them in this
process, for a single-process service.

The token bucket of the spec (rate r, burst b) is approximated by a moving window of b
messages per b/r seconds: a full burst is allowed at once, and the sustained rate cannot
exceed r. Unlike a true bucket, tokens come back all at once when the window slides past the
burst rather than one every 1/r seconds, which is stricter, never looser.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from chat_service.settings import ChatSettings


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


class SendLimits:
    def __init__(self, settings: ChatSettings) -> None:
        uri = settings.rate_limit_storage.removeprefix("async+")
        options: dict[str, str] = {}
        if uri.startswith(("redis", "rediss")):
            options = {"implementation": "redispy", "key_prefix": settings.rate_limit_prefix}
        self._limiter = MovingWindowRateLimiter(storage_from_string(f"async+{uri}", **options))
        self._rate = send_rate_item(settings.send_rate_per_second, settings.send_burst)
        window = max(1, math.ceil(settings.repeat_body_window.total_seconds()))
        self._repeat = RateLimitItemPerSecond(
            settings.repeat_body_limit, window, namespace="chat-repeat"
        )

    async def check_rate(self, user_id: str) -> Verdict:
        """Counts one send attempt against the user's rate."""
        if not await self._limiter.hit(self._rate, user_id):
            return Verdict(False, "rate", await self._retry_after(self._rate, user_id))
        return ALLOWED

    async def check_repeat(self, user_id: str, body: str) -> Verdict:
        """Counts one new message with this body; refuses once the window holds too many."""
        fingerprint = body_fingerprint(body)
        if not await self._limiter.hit(self._repeat, user_id, fingerprint):
            return Verdict(
                False, "repeat", await self._retry_after(self._repeat, user_id, fingerprint)
            )
        return ALLOWED

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))
