"""Sessions: a login starts one; a refresh trades its newest refresh token for the next
(rotation); a token presented again after its rotation revokes the session (reuse: either the
owner or a thief holds a copy, and the service cannot tell which); logout revokes one session,
logout-all every session of the user.

Built once in the lifespan; each call takes the request's session, its unit of work.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import NoReturn

import structlog
from sqlalchemy.orm import Session

from auth_service.errors import FirebaseUnavailable, InvalidRefreshToken, RefreshTokenReused
from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.metrics import Metrics
from auth_service.rate_limits import RateLimits
from auth_service.sessions.repository import SessionRepository
from auth_service.sessions.schemas import TokenResponse
from auth_service.settings import AuthSettings
from auth_service.users.models import User
from auth_service.users.repository import UserRepository
from auth_validator import issue_access_token

log = structlog.get_logger(__name__)

REFRESH_TOKEN_BYTES = 32  # 256 random bits


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request comes from, as kept on the session (never checked)."""

    address: str
    user_agent: str | None


def token_hash(token: str) -> bytes:
    """What the table holds for `token` (ASCII by the request schema)."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class SessionService:
    firebase: FirebaseTokenMinter
    rate_limits: RateLimits
    settings: AuthSettings
    metrics: Metrics

    def start(self, session: Session, user: User, client: Client) -> TokenResponse:
        """A new session for a user who just proved who they are, and its first grant."""
        sessions = SessionRepository(session)
        sessions.forget_ended_sessions(user.id, self.settings.refresh_token_lifetime)
        session_id = sessions.start(user.id, user_agent=client.user_agent, address=client.address)
        self.metrics.sessions.labels("started").inc()
        log.info("session_started", user_id=user.id, session_id=str(session_id))
        return self._grant(sessions, user, session_id)

    def refresh(self, session: Session, presented: str, client: Client) -> TokenResponse:
        """The next grant of the session `presented` belongs to; `presented` stops working."""
        self.rate_limits.consume_session_request(client.address)
        sessions = SessionRepository(session)
        digest = token_hash(presented)
        session_id = sessions.claim(digest)
        if session_id is None:
            self._refuse(session, sessions, digest)
        live = sessions.lock_live(session_id)
        user = UserRepository(session).get(live.user_id) if live else None
        if user is None:
            # Revoked (logout, logout-all, reuse) after this token was issued; the claim
            # above is rolled back with the request.
            self.metrics.sessions.labels("invalid").inc()
            raise InvalidRefreshToken()
        sessions.touch(session_id, user_agent=client.user_agent, address=client.address)
        sessions.forget_expired_tokens(session_id)
        self.metrics.sessions.labels("refreshed").inc()
        log.info("session_refreshed", user_id=user.id, session_id=str(session_id))
        return self._grant(sessions, user, session_id)

    def logout(self, session: Session, presented: str, address: str) -> None:
        """Revokes the session of `presented`; nothing to do for an unknown token."""
        self.rate_limits.consume_session_request(address)
        session_id = SessionRepository(session).revoke_by_token(token_hash(presented), "logout")
        if session_id is not None:
            self.metrics.sessions.labels("logout").inc()
            log.info("session_revoked", session_id=str(session_id), reason="logout")

    def logout_all(self, session: Session, user_id: int, address: str) -> None:
        """Revokes every session of the user."""
        self.rate_limits.consume_session_request(address)
        revoked = SessionRepository(session).revoke_all(user_id, "logout_all")
        self.metrics.sessions.labels("logout_all").inc()
        log.info("sessions_revoked", user_id=user_id, count=revoked, reason="logout_all")

    def _refuse(self, session: Session, sessions: SessionRepository, digest: bytes) -> NoReturn:
        token = sessions.token(digest)
        if token is None or token.rotated_at is None:
            self.metrics.sessions.labels("invalid").inc()
            raise InvalidRefreshToken()  # unknown, or expired before it was ever used
        # Reuse: a copy of the token is out there. Revoke the whole family, and commit it
        # although the answer is a 401: the revocation is this request's outcome.
        sessions.revoke(token.session_id, "reuse")
        session.commit()
        self.metrics.sessions.labels("reused").inc()
        log.warning("refresh_token_reused", session_id=str(token.session_id))
        raise RefreshTokenReused()

    def _grant(
        self, sessions: SessionRepository, user: User, session_id: uuid.UUID
    ) -> TokenResponse:
        refresh_token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
        refresh_lifetime = self.settings.refresh_token_lifetime
        sessions.add_token(session_id, token_hash(refresh_token), refresh_lifetime)
        lifetime = self.settings.access_token_lifetime
        access_token = issue_access_token(
            self.settings.jwt,
            user_id=str(user.id),
            username=user.username,
            lifetime=lifetime,
            session_id=str(session_id),
        )
        return TokenResponse(
            access_token=access_token,
            expires_in=int(lifetime.total_seconds()),
            id=str(user.id),
            username=user.username,
            firebase_token=self._firebase_token(user),
            refresh_token=refresh_token,
            refresh_expires_in=int(refresh_lifetime.total_seconds()),
            session_id=str(session_id),
        )

    def _firebase_token(self, user: User) -> str:
        try:
            return self.firebase.mint(str(user.id))
        except Exception as exc:
            log.error("firebase_token_failed", user_id=user.id, error_type=type(exc).__name__)
            raise FirebaseUnavailable() from exc
