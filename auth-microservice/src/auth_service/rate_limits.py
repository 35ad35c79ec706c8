"""Brute-force and sign-up limits (the README's "Limits") on top of the `limits` library.

Moving windows: "10 failures per 15 minutes" means any 15-minute span, so an attacker cannot
double the rate by straddling a fixed window boundary. Counters live in Redis by default
(`AUTH_RATE_LIMIT_STORAGE`), shared by every worker process and replica; `memory://`
keeps them in this process, for a single-process service.

When the store does not answer (down, or slower than `AUTH_RATE_LIMIT_TIMEOUT`), login and
sign-up fail closed with 503: counting in memory instead would give every process and
replica a fresh budget of password guesses for as long as Redis is away.
"""

import math
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.strategies import MovingWindowRateLimiter

from auth_service.settings import AuthSettings
from http_kit import Dependency, RateLimited
from http_kit.limits_store import open_limits_storage

LOCK_STRIPES = 64
log = structlog.get_logger(__name__)


RATE_LIMIT_STORE = Dependency(
    "rate_limits", "Rate limits cannot be checked right now; try again later."
)
# As for Postgres: a restarted Redis (memory only) is back within seconds.
RATE_LIMIT_STORE_RETRY_AFTER_SECONDS = 5


def _per_window(amount: int, window: timedelta, namespace: str) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, max(1, int(window.total_seconds())), namespace=namespace)


class RateLimits:
    """All of the service's limits over one storage."""

    def __init__(self, settings: AuthSettings) -> None:
        self._storage = open_limits_storage(settings)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._store_failing = False
        window = settings.login_failure_window
        self._failures_per_username = _per_window(
            settings.login_failures_per_username, window, "auth-login-failures-username"
        )
        self._failures_per_address = _per_window(
            settings.login_failures_per_address, window, "auth-login-failures-address"
        )
        self._signups_per_address = _per_window(
            settings.signups_per_address, settings.signup_window, "auth-signups-address"
        )
        self._session_requests_per_address = _per_window(
            settings.session_requests_per_address,
            settings.session_request_window,
            "auth-session-requests-address",
        )
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    @contextmanager
    def login_attempt(self, username: str) -> Iterator[None]:
        """Serialises check -> verify -> record for one username within this process.

        Without it, 100 parallel guesses would all pass `check_login_allowed` before the first
        failure is recorded. Striped locks keep memory fixed; across replicas the residual
        race is at most one attempt per replica.
        """
        stripe = zlib.crc32(_username_key(username).encode()) % len(self._stripes)
        with self._stripes[stripe]:
            yield

    def check_login_allowed(self, username: str, address: str) -> None:
        """429 once either failure budget is spent, even for the right password: otherwise
        the attacker would learn the password from the one attempt that does not fail."""
        with self._store():
            for item, key in self._login_keys(username, address):
                if not self._limiter.test(item, key):
                    raise RateLimited(
                        self._retry_after(item, key), "Too many failed logins; try later."
                    )

    def record_login_failure(self, username: str, address: str) -> None:
        # Unrecorded, the guess would be free: the caller answers 503, not 401.
        with self._store():
            for item, key in self._login_keys(username, address):
                self._limiter.hit(item, key)

    def record_login_success(self, username: str) -> None:
        # The owner got in: earlier typos should not count towards locking them out. A
        # failure here is a 503 as well, so the answer never tells a right password from a
        # wrong one while the store is away.
        with self._store():
            self._limiter.clear(self._failures_per_username, _username_key(username))

    def consume_signup(self, address: str) -> None:
        """Counts a sign-up attempt from `address`; 429 when the budget is spent."""
        with self._store():
            if not self._limiter.hit(self._signups_per_address, address):
                raise RateLimited(
                    self._retry_after(self._signups_per_address, address),
                    "Too many sign-ups from this address; try later.",
                )

    def consume_session_request(self, address: str) -> None:
        """Counts a refresh or logout from `address`; 429 when the budget is spent. Refresh
        tokens cannot be guessed; this bounds the database work one address can cause."""
        with self._store():
            if not self._limiter.hit(self._session_requests_per_address, address):
                raise RateLimited(
                    self._retry_after(self._session_requests_per_address, address),
                    "Too many session requests; try later.",
                )

    @contextmanager
    def _store(self) -> Iterator[None]:
        """Turns a store that does not answer into 503 `rate_limits_unavailable`; logs the
        start and the end of an outage once each, not every refused request."""
        try:
            yield
        except StorageError as error:
            if not self._store_failing:
                self._store_failing = True
                log.warning("rate_limit_store_unavailable", error=str(error.storage_error))
            raise RATE_LIMIT_STORE.unavailable(RATE_LIMIT_STORE_RETRY_AFTER_SECONDS) from error
        if self._store_failing:
            self._store_failing = False
            log.info("rate_limit_store_recovered")

    def _login_keys(self, username: str, address: str) -> list[tuple[RateLimitItem, str]]:
        return [
            (self._failures_per_username, _username_key(username)),
            (self._failures_per_address, address),
        ]

    def _retry_after(self, item: RateLimitItem, key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _username_key(username: str) -> str:
    # Usernames are unique case-insensitively, so their failure budget is too.
    return username.lower()
