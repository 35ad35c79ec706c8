"""Rules for users: registration (with its rate limit), lookup, search.

Built once in the lifespan; each call takes the request's session, its unit of work.
"""

from typing import NoReturn

import structlog
from sqlalchemy.orm import Session

from auth_service.errors import UsernameTaken, UserNotFound
from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.rate_limits import RateLimits
from auth_service.users.models import User
from auth_service.users.repository import UserRepository
from auth_service.users.schemas import UserCreate

log = structlog.get_logger(__name__)


class UserService:
    def __init__(self, hasher: PasswordHasher, rate_limits: RateLimits, metrics: Metrics) -> None:
        self._hasher = hasher
        self._limits = rate_limits
        self._metrics = metrics

    def register(self, session: Session, data: UserCreate, address: str) -> User:
        """Creates the user; `UsernameTaken` if the name exists in any letter case."""
        # Counted before anything is written: when the limits cannot be checked (503), no
        # user is created either.
        self._limits.consume_signup(address)
        users = UserRepository(session)
        # Cheap early answer for the common case; the insert below settles races.
        if users.by_username(data.username) is not None:
            self._refuse_taken()
        hashed = self._hasher.hash(data.password)
        user = users.add(data.username, hashed)
        if user is None:
            self._refuse_taken()
        self._metrics.signups.labels("created").inc()
        log.info("user_registered", user_id=user.id)
        return user

    def get(self, session: Session, user_id: int) -> User:
        user = UserRepository(session).get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    def search(
        self, session: Session, *, prefix: str | None, after_id: int | None, limit: int
    ) -> list[User]:
        return UserRepository(session).page(prefix=prefix, after_id=after_id, limit=limit)

    def _refuse_taken(self) -> NoReturn:
        self._metrics.signups.labels("username_taken").inc()
        raise UsernameTaken()
