"""Argon2id password hashing through passlib's API."""

import secrets
import threading

from passlib.context import CryptContext
from prometheus_client import CollectorRegistry, Histogram

from auth_service.settings import AuthSettings


class PasswordHasher:
    """Hashes and verifies passwords; at most `concurrency` hashes run at once.

    Every call is CPU-bound (tens of milliseconds) and must run off the event loop: the
    endpoints that use it are plain `def` functions, which FastAPI runs in its threadpool.
    The semaphore bounds memory (each hash holds `memory_cost` KiB) and keeps a burst of
    logins from starving everything else on the machine.
    """

    def __init__(self, settings: AuthSettings, registry: CollectorRegistry) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=settings.argon2_memory_cost_kib,
            argon2__time_cost=settings.argon2_time_cost,
            argon2__parallelism=settings.argon2_parallelism,
        )
        self._slots = threading.BoundedSemaphore(settings.password_hash_concurrency)
        self._seconds = Histogram(
            "auth_password_hash_seconds",
            "Time spent hashing or verifying one password (excluding queueing).",
            ["operation"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        # Verified when a username does not exist, so that a miss costs as much as a hit.
        self._dummy_hash = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        with self._slots, self._seconds.labels(operation="hash").time():
            hashed: str = self._context.hash(password)
        return hashed

    def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """(matches, replacement hash if the stored one uses outdated parameters).

        With `hashed=None` (unknown user) a dummy hash is verified and the answer is False:
        the response takes as long as for a real user, so timing does not reveal which
        usernames exist.
        """
        with self._slots, self._seconds.labels(operation="verify").time():
            if hashed is None:
                self._context.verify(password, self._dummy_hash)
                return False, None
            matches, replacement = self._context.verify_and_update(password, hashed)
        return bool(matches), replacement
