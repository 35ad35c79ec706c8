"""Auth service settings (`AUTH_` prefix; the stack's shared variables also unprefixed)."""

from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from auth_validator import TokenServiceSettings
from service_settings import Duration

DEVELOPMENT_AUTH_EMULATOR = "127.0.0.1:9099"


class AuthSettings(TokenServiceSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore")

    stack_variables: ClassVar[dict[str, str]] = {
        **TokenServiceSettings.stack_variables,
        "database_url": "DATABASE_URL",
        "firebase_project": "GOOGLE_CLOUD_PROJECT",
        "firebase_auth_emulator_host": "FIREBASE_AUTH_EMULATOR_HOST",
    }
    # One name per concept across both services (docs/architecture.md, "Names").
    former_variables: ClassVar[dict[str, str]] = {
        "rate_limit_storage": "AUTH_RATE_LIMIT_STORAGE_URI",
    }

    database_url: SecretStr = SecretStr("postgresql+psycopg2://postgres@127.0.0.1:5433/auth")
    database_pool_size: int = Field(10, ge=1, le=100)
    # Longest a request may hold a database connection; past it the connection is cut and the
    # request answers 503 (database.py, ConnectionWatchdog). Far above any query's time.
    database_call_timeout: Duration = Field(timedelta(seconds=5), gt=timedelta(0))

    # Short: an access token cannot be revoked, so this bounds how long a revoked session's
    # tokens still work. The refresh token lives on (each refresh gives a new one for as long
    # again), and is revoked at once.
    access_token_lifetime: Duration = timedelta(minutes=15)
    refresh_token_lifetime: Duration = timedelta(days=30)

    firebase_project: str = "demo-chat"
    firebase_auth_emulator_host: str | None = None
    firebase_credentials_file: Path | None = None

    # Argon2id cost; see README "Password hashing" for why these values.
    argon2_memory_cost_kib: int = Field(19_456, ge=8_192, le=1_048_576)
    argon2_time_cost: int = Field(2, ge=1, le=20)
    argon2_parallelism: int = Field(1, ge=1, le=16)
    password_hash_concurrency: int = Field(4, ge=1, le=64)

    rate_limit_prefix: str = "auth-limits"
    # Past this, login and sign-up answer 503 rather than hold a worker thread on a stalled
    # Redis; long enough for a busy machine's Redis.
    rate_limit_timeout: Duration = Field(timedelta(milliseconds=500), gt=timedelta(0))
    login_failures_per_username: int = Field(10, ge=1)
    login_failures_per_address: int = Field(10, ge=1)
    login_failure_window: Duration = timedelta(minutes=15)
    signups_per_address: int = Field(5, ge=1)
    signup_window: Duration = timedelta(hours=1)
    # Refresh, logout and logout-all from one address (a tab refreshes every few minutes;
    # many people may share an address).
    session_requests_per_address: int = Field(120, ge=1)
    session_request_window: Duration = timedelta(minutes=1)

    # Browser origins allowed to call the API directly (JSON list); empty = no CORS headers.
    cors_origins: list[str] = []

    @model_validator(mode="after")
    def _no_silent_defaults_in_production(self) -> Self:
        # The default database is a local development server; production must name its own.
        if self.app_env == "production" and "database_url" not in self.model_fields_set:
            raise ValueError("AUTH_DATABASE_URL (or DATABASE_URL) is required in production")
        windows = ("login_failure_window", "signup_window", "session_request_window")
        for name in ("access_token_lifetime", *windows):
            if getattr(self, name) < timedelta(seconds=1):
                raise ValueError(f"AUTH_{name.upper()} must be at least one second")
        return self

    @model_validator(mode="after")
    def _check_token_lifetimes(self) -> Self:
        if self.access_token_lifetime > timedelta(days=1):
            raise ValueError("AUTH_ACCESS_TOKEN_LIFETIME must be at most one day")
        if self.refresh_token_lifetime <= self.access_token_lifetime:
            raise ValueError(
                "AUTH_REFRESH_TOKEN_LIFETIME must be longer than AUTH_ACCESS_TOKEN_LIFETIME"
            )
        if self.refresh_token_lifetime > timedelta(days=365):
            raise ValueError("AUTH_REFRESH_TOKEN_LIFETIME must be at most 365 days")
        # The auth service signs: its key set must name the signing key, and for RS256 hold
        # its private key. Refused at start-up (ValueError), not at the first login.
        _ = self.jwt.signing_key
        return self

    @model_validator(mode="after")
    def _check_firebase_credentials(self) -> Self:
        uses_emulator = bool(self.firebase_auth_emulator_host)
        if (
            self.app_env == "development"
            and not uses_emulator
            and not self.firebase_credentials_file
        ):
            # The local stack always runs the Auth emulator; development needs no key file.
            self.firebase_auth_emulator_host = DEVELOPMENT_AUTH_EMULATOR
        elif self.app_env == "production" and uses_emulator:
            raise ValueError("FIREBASE_AUTH_EMULATOR_HOST must not be set in production")
        elif not uses_emulator and self.firebase_credentials_file is None:
            raise ValueError(
                "AUTH_FIREBASE_CREDENTIALS_FILE is required "
                "unless FIREBASE_AUTH_EMULATOR_HOST is set"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url.get_secret_value()
