"""The only place that reads and writes `sessions` and `refresh_tokens`. Never commits: the
request does. Every time comes from the database's clock (`now()`, the transaction's start),
so replicas with skewed clocks agree on what has expired."""

import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from auth_service.sessions.models import RefreshToken, UserSession


class SessionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def start(self, user_id: int, *, user_agent: str | None, address: str | None) -> uuid.UUID:
        """A new live session of the user."""
        session_id = uuid.uuid4()
        self._session.add(
            UserSession(id=session_id, user_id=user_id, user_agent=user_agent, address=address)
        )
        self._session.flush()
        return session_id

    def add_token(self, session_id: uuid.UUID, token_hash: bytes, lifetime: timedelta) -> None:
        self._session.add(
            RefreshToken(
                token_hash=token_hash, session_id=session_id, expires_at=func.now() + lifetime
            )
        )
        self._session.flush()

    def claim(self, token_hash: bytes) -> uuid.UUID | None:
        """Marks the token rotated and names its session, if it was live; None otherwise.

        One conditional UPDATE: of two requests with the same token, the second waits for
        the first's row lock and then finds `rotated_at` set, so only one ever claims it.
        """
        statement = (
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.rotated_at.is_(None),
                RefreshToken.expires_at > func.now(),
            )
            .values(rotated_at=func.now())
            .returning(RefreshToken.session_id)
        )
        return self._session.execute(statement).scalar_one_or_none()

    def token(self, token_hash: bytes) -> RefreshToken | None:
        return self._session.get(RefreshToken, token_hash, populate_existing=True)

    def lock_live(self, session_id: uuid.UUID) -> UserSession | None:
        """The session if it is not revoked, locked until the transaction ends: a logout that
        runs at the same moment waits, and a refresh that waited sees its revocation."""
        statement = (
            select(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self._session.scalars(statement).one_or_none()

    def touch(self, session_id: uuid.UUID, *, user_agent: str | None, address: str) -> None:
        statement = (
            update(UserSession)
            .where(UserSession.id == session_id)
            .values(last_used_at=func.now(), user_agent=user_agent, address=address)
        )
        self._session.execute(statement)

    def forget_expired_tokens(self, session_id: uuid.UUID) -> None:
        """Drops the session's expired tokens: an expired token is refused whether or not it
        was rotated, so its row no longer serves reuse detection."""
        statement = delete(RefreshToken).where(
            RefreshToken.session_id == session_id, RefreshToken.expires_at <= func.now()
        )
        self._session.execute(statement)

    def forget_ended_sessions(self, user_id: int, older_than: timedelta) -> None:
        """Drops the user's sessions revoked or unused for longer than `older_than` (and,
        by cascade, their tokens), so a user's rows do not grow with every login."""
        cutoff = func.now() - older_than
        statement = delete(UserSession).where(
            UserSession.user_id == user_id,
            (UserSession.revoked_at < cutoff) | (UserSession.last_used_at < cutoff),
        )
        self._session.execute(statement)

    def revoke(self, session_id: uuid.UUID, reason: str) -> bool:
        """Revokes a live session; False when it was already revoked (or never existed)."""
        statement = (
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=func.now(), revoked_reason=reason)
            .returning(UserSession.id)
        )
        return self._session.execute(statement).scalar_one_or_none() is not None

    def revoke_by_token(self, token_hash: bytes, reason: str) -> uuid.UUID | None:
        """Revokes the live session that any of its tokens (rotated or not) belongs to."""
        owner = select(RefreshToken.session_id).where(RefreshToken.token_hash == token_hash)
        statement = (
            update(UserSession)
            .where(UserSession.id == owner.scalar_subquery(), UserSession.revoked_at.is_(None))
            .values(revoked_at=func.now(), revoked_reason=reason)
            .returning(UserSession.id)
        )
        return self._session.execute(statement).scalar_one_or_none()

    def revoke_all(self, user_id: int, reason: str) -> int:
        statement = (
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=func.now(), revoked_reason=reason)
            .returning(UserSession.id)
        )
        return len(self._session.execute(statement).all())
