"""Rules for users: registration, lookup, search."""

from typing import NoReturn

import structlog

from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.users.models import User
from auth_service.users.repository import UserRepository
from auth_service.users.schemas import UserCreate
from auth_validator import Conflict, NotFound

log = structlog.get_logger(__name__)


class UsernameTaken(Conflict):
    code = "username_taken"
    detail = "This username is already taken."


class UserNotFound(NotFound):
    code = "user_not_found"
    detail = "No user with this id."


class UserService:
    def __init__(
        self, repository: UserRepository, hasher: PasswordHasher, metrics: Metrics
    ) -> None:
        self._repository = repository
        self._hasher = hasher
        self._metrics = metrics

    def register(self, data: UserCreate) -> User:
        """Creates the user; `UsernameTaken` if the name exists in any letter case."""
        # Cheap early answer for the common case; the insert below settles races.
        if self._repository.by_username(data.username) is not None:
            self._refuse_taken()
        hashed = self._hasher.hash(data.password)
        user = self._repository.add(data.username, hashed)
        if user is None:
            self._refuse_taken()
        self._metrics.signups.labels("created").inc()
        log.info("user_registered", user_id=user.id)
        return user

    def get(self, user_id: int) -> User:
        user = self._repository.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    def search(self, *, prefix: str | None, after_id: int | None, limit: int) -> list[User]:
        return self._repository.page(prefix=prefix, after_id=after_id, limit=limit)

    def _refuse_taken(self) -> NoReturn:
        self._metrics.signups.labels("username_taken").inc()
        raise UsernameTaken()
