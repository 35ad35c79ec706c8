"""The only place that reads and writes the `users` table. Never commits: the request does."""

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from auth_service.users.models import User

# Any fixed 64-bit number; names the lock that orders user inserts (see `add`).
_INSERT_LOCK_KEY = 0x617574685F757372  # "auth_usr"


def _like_prefix(prefix: str) -> str:
    """`a_b` -> `a\\_b%`: `_` is a LIKE wildcard and is allowed in usernames."""
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, user_id: int) -> User | None:
        return self._session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        statement = select(User).where(func.lower(User.username) == username.lower())
        return self._session.scalars(statement).one_or_none()

    def add(self, username: str, hashed_password: str) -> User | None:
        """Inserts the user; None when the name is taken (ignoring case), even concurrently.

        The transaction-scoped advisory lock makes ids commit in increasing order: without
        it, id 11 could become visible after id 12, and a client paging with
        `after_id=12` would never see user 11. Hashing happens before, so the lock is held
        only for one insert.
        """
        self._session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INSERT_LOCK_KEY})
        statement = (
            insert(User)
            .values(username=username, hashed_password=hashed_password)
            .on_conflict_do_nothing()
            .returning(User.id)
        )
        user_id = self._session.execute(statement).scalar_one_or_none()
        return None if user_id is None else self._session.get(User, user_id)

    def replace_hash(self, user_id: int, hashed_password: str) -> None:
        statement = update(User).where(User.id == user_id).values(hashed_password=hashed_password)
        self._session.execute(statement)

    def page(self, *, prefix: str | None, after_id: int | None, limit: int) -> list[User]:
        """Users ordered by id, strictly after `after_id`, optionally by name prefix."""
        statement = select(User).order_by(User.id).limit(limit)
        if after_id is not None:
            statement = statement.where(User.id > after_id)
        if prefix:
            pattern = _like_prefix(prefix)
            statement = statement.where(func.lower(User.username).like(pattern, escape="\\"))
        return list(self._session.scalars(statement))
