"""Login: limits first, then the password, then a new session and its tokens.

Built once in the lifespan; each call takes the request's session, its unit of work.
"""

from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from auth_service.errors import InvalidCredentials
from auth_service.login.schemas import LoginForm
from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.rate_limits import RateLimits
from auth_service.sessions.schemas import TokenResponse
from auth_service.sessions.service import Client, SessionService
from auth_service.users.models import User
from auth_service.users.repository import UserRepository
from http_kit import RateLimited

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LoginService:
    hasher: PasswordHasher
    rate_limits: RateLimits
    sessions: SessionService
    metrics: Metrics

    def login(self, session: Session, form: LoginForm, client: Client) -> TokenResponse:
        user = self._authenticate(UserRepository(session), form, client.address)
        grant = self.sessions.start(session, user, client)
        self.metrics.logins.labels("success").inc()
        log.info("login_succeeded", user_id=user.id)
        return grant

    def _authenticate(self, users: UserRepository, form: LoginForm, address: str) -> User:
        with self.rate_limits.login_attempt(form.username):
            try:
                self.rate_limits.check_login_allowed(form.username, address)
            except RateLimited:
                self.metrics.logins.labels("rate_limited").inc()
                log.warning("login_rate_limited", address=address)
                raise
            user = users.by_username(form.username)
            matches, new_hash = self.hasher.verify(
                form.password, user.hashed_password if user else None
            )
            if user is None or not matches:
                self.rate_limits.record_login_failure(form.username, address)
                self.metrics.logins.labels("invalid_credentials").inc()
                # No username in the log: people type passwords into the username field.
                log.info("login_failed", address=address)
                raise InvalidCredentials()
            self.rate_limits.record_login_success(form.username)
        if new_hash is not None:
            # Cost parameters changed since this hash was made; upgrade it while we hold
            # the plain password.
            users.replace_hash(user.id, new_hash)
        return user
