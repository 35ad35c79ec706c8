"""Brute-force and sign-up limits (DESIGN §10) on top of the `limits` library.

Moving windows: "10 failures per 15 minutes" means any 15-minute span, so an attacker cannot
double the rate by straddling a fixed window boundary. Counters live in Redis by default
(`AUTH_RATE_LIMIT_STORAGE_URI`), shared by every worker process and replica; `memory://`
keeps them in this process, for a single-process service.
"""

import math
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from auth_service.settings import AuthSettings
from auth_validator import RateLimited

LOCK_STRIPES = 64


def _per_window(amount: int, window: timedelta, namespace: str) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, max(1, int(window.total_seconds())), namespace=namespace)


class RateLimits:
    """All of the service's limits over one storage."""

    def __init__(self, settings: AuthSettings) -> None:
        uri = settings.rate_limit_storage_uri
        options = {"key_prefix": settings.rate_limit_prefix} if uri.startswith("redis") else {}
        storage = storage_from_string(uri, **options)
        if not isinstance(storage, Storage):
            # The endpoints run in worker threads and call the limiter synchronously.
            raise ValueError("AUTH_RATE_LIMIT_STORAGE_URI must name a synchronous storage")
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(self._storage)
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
        for item, key in self._login_keys(username, address):
            if not self._limiter.test(item, key):
                raise RateLimited(
                    self._retry_after(item, key), "Too many failed logins; try later."
                )

    def record_login_failure(self, username: str, address: str) -> None:
        for item, key in self._login_keys(username, address):
            self._limiter.hit(item, key)

    def record_login_success(self, username: str) -> None:
        # The owner got in: earlier typos should not count towards locking them out.
        self._limiter.clear(self._failures_per_username, _username_key(username))

    def consume_signup(self, address: str) -> None:
        """Counts a sign-up attempt from `address`; 429 when the budget is spent."""
        if not self._limiter.hit(self._signups_per_address, address):
            raise RateLimited(
                self._retry_after(self._signups_per_address, address),
                "Too many sign-ups from this address; try later.",
            )

    def storage_is_reachable(self) -> bool:
        return bool(self._storage.check())

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
