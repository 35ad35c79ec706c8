"""Login: limits first, then the password, then the tokens.

Built once in the lifespan; each call takes the request's session, its unit of work.
"""

import structlog
from sqlalchemy.orm import Session

from auth_service.errors import FirebaseUnavailable, InvalidCredentials
from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.login.schemas import LoginForm, TokenResponse
from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.rate_limits import RateLimits
from auth_service.settings import AuthSettings
from auth_service.users.models import User
from auth_service.users.repository import UserRepository
from auth_validator import issue_access_token
from http_kit import RateLimited

log = structlog.get_logger(__name__)


class LoginService:
    def __init__(
        self,
        hasher: PasswordHasher,
        rate_limits: RateLimits,
        firebase: FirebaseTokenMinter,
        settings: AuthSettings,
        metrics: Metrics,
    ) -> None:
        self._hasher = hasher
        self._limits = rate_limits
        self._firebase = firebase
        self._settings = settings
        self._metrics = metrics

    def login(self, session: Session, form: LoginForm, address: str) -> TokenResponse:
        user = self._authenticate(UserRepository(session), form, address)
        lifetime = self._settings.access_token_lifetime
        access_token = issue_access_token(
            self._settings.jwt, user_id=str(user.id), username=user.username, lifetime=lifetime
        )
        self._metrics.logins.labels("success").inc()
        log.info("login_succeeded", user_id=user.id)
        return TokenResponse(
            access_token=access_token,
            expires_in=int(lifetime.total_seconds()),
            id=str(user.id),
            username=user.username,
            firebase_token=self._firebase_token(user),
        )

    def _authenticate(self, users: UserRepository, form: LoginForm, address: str) -> User:
        with self._limits.login_attempt(form.username):
            try:
                self._limits.check_login_allowed(form.username, address)
            except RateLimited:
                self._metrics.logins.labels("rate_limited").inc()
                log.warning("login_rate_limited", address=address)
                raise
            user = users.by_username(form.username)
            matches, new_hash = self._hasher.verify(
                form.password, user.hashed_password if user else None
            )
            if user is None or not matches:
                self._limits.record_login_failure(form.username, address)
                self._metrics.logins.labels("invalid_credentials").inc()
                # No username in the log: people type passwords into the username field.
                log.info("login_failed", address=address)
                raise InvalidCredentials()
            self._limits.record_login_success(form.username)
        if new_hash is not None:
            # Cost parameters changed since this hash was made; upgrade it while we hold
            # the plain password.
            users.replace_hash(user.id, new_hash)
        return user

    def _firebase_token(self, user: User) -> str:
        try:
            return self._firebase.mint(str(user.id))
        except Exception as exc:
            log.error("firebase_token_failed", user_id=user.id, error_type=type(exc).__name__)
            raise FirebaseUnavailable() from exc
