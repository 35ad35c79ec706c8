"""Auth service settings (`AUTH_` prefix; infrastructure addresses also unprefixed)."""

from datetime import timedelta
from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth_validator import JwtSettings
from service_settings import (
    DEFAULT_LIMITS_STORAGE,
    LOOPBACK_PROXIES,
    AppEnv,
    Duration,
    TrustedProxies,
    check_limits_are_shared,
)

DEVELOPMENT_AUTH_EMULATOR = "127.0.0.1:9099"


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", populate_by_name=True)

    app_env: AppEnv = Field(AppEnv.DEVELOPMENT, validation_alias=AliasChoices("APP_ENV"))
    database_url: SecretStr = Field(
        SecretStr("postgresql+psycopg2://postgres@127.0.0.1:5433/auth"),
        validation_alias=AliasChoices("AUTH_DATABASE_URL", "DATABASE_URL"),
    )
    database_pool_size: int = Field(10, ge=1, le=100)

    access_token_lifetime: Duration = timedelta(hours=1)
    jwt: JwtSettings = Field(default_factory=JwtSettings)

    firebase_project: str = Field(
        "demo-chat", validation_alias=AliasChoices("AUTH_FIREBASE_PROJECT", "GOOGLE_CLOUD_PROJECT")
    )
    firebase_auth_emulator_host: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "AUTH_FIREBASE_AUTH_EMULATOR_HOST", "FIREBASE_AUTH_EMULATOR_HOST"
        ),
    )
    firebase_credentials_file: Path | None = None

    # Argon2id cost; see README "Password hashing" for why these values.
    argon2_memory_cost_kib: int = Field(19_456, ge=8_192, le=1_048_576)
    argon2_time_cost: int = Field(2, ge=1, le=20)
    argon2_parallelism: int = Field(1, ge=1, le=16)
    password_hash_concurrency: int = Field(4, ge=1, le=64)

    # A `limits` storage URI: Redis shares the counters between every worker and replica;
    # "memory://" keeps them in this process, right only for a single process.
    rate_limit_storage_uri: str = Field(
        DEFAULT_LIMITS_STORAGE,
        validation_alias=AliasChoices("AUTH_RATE_LIMIT_STORAGE_URI", "REDIS_URL"),
    )
    # Prefix of the service's keys in that store (several deployments may share one Redis).
    rate_limit_prefix: str = "auth-limits"
    # Connect and reply timeout of that store. Past it, login and sign-up answer 503 rather
    # than hold a worker thread on a stalled Redis; long enough for a busy machine's Redis.
    rate_limit_timeout: Duration = Field(timedelta(milliseconds=500), gt=timedelta(0))
    # Peers whose X-Forwarded-For names the client of the per-address limits.
    trusted_proxies: TrustedProxies = LOOPBACK_PROXIES
    # Worker processes of `auth-service serve`; password hashing is CPU-bound, so up to one
    # per core the service has to itself (a container sees the node's cores, not its limit).
    workers: int = Field(1, ge=1, le=64)
    login_failures_per_username: int = Field(10, ge=1)
    login_failures_per_address: int = Field(10, ge=1)
    login_failure_window: Duration = timedelta(minutes=15)
    signups_per_address: int = Field(5, ge=1)
    signup_window: Duration = timedelta(hours=1)

    # Longer request bodies get 413 before they are read into memory and parsed. 1 MiB, as
    # nginx allows by default: far above the largest valid request (a login form at its
    # limits is under 3 KB), while an overlong field still gets its 422.
    max_body_bytes: int = Field(1_048_576, ge=1_024)
    # Requests whose header lines total more get 431. 16 KiB, as nginx's default buffers
    # allow: an access token is under 1 KB, while a megabyte of header is refused before
    # token checks, logs and metrics see it.
    max_header_bytes: int = Field(16_384, ge=1_024)

    # Browser origins allowed to call the API directly (JSON list); empty = no CORS headers.
    cors_origins: list[str] = []

    log_json: bool = False
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _workers_share_limits(self) -> Self:
        check_limits_are_shared(
            self.workers, self.rate_limit_storage_uri, "AUTH_", "RATE_LIMIT_STORAGE_URI"
        )
        return self

    @model_validator(mode="after")
    def _same_environment_for_tokens(self) -> Self:
        # Both read APP_ENV; differing values mean settings built in code disagree, and the
        # JWT secret checks would run for the wrong environment.
        if self.jwt.app_env != self.app_env:
            raise ValueError(
                f"JWT settings are for {self.jwt.app_env}, the service for {self.app_env}"
            )
        return self

    @model_validator(mode="after")
    def _no_silent_defaults_in_production(self) -> Self:
        # The default database is a local development server; production must name its own.
        if self.app_env == "production" and "database_url" not in self.model_fields_set:
            raise ValueError("AUTH_DATABASE_URL (or DATABASE_URL) is required in production")
        for name in ("access_token_lifetime", "login_failure_window", "signup_window"):
            if getattr(self, name) < timedelta(seconds=1):
                raise ValueError(f"AUTH_{name.upper()} must be at least one second")
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
