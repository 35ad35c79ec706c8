"""Token settings (`JWT_` prefix), shared by the auth service and every service that verifies."""

from datetime import timedelta
from typing import Any, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from http_kit import HttpServiceSettings
from service_settings import AppEnv, Duration

# Usable only when APP_ENV=development: anyone who reads this repository knows it.
DEVELOPMENT_SECRET = "development-only-jwt-secret-do-not-use-elsewhere"  # noqa: S105

# Secrets that appear in tutorials, templates and the original project; never acceptable.
WELL_KNOWN_SECRETS = frozenset(
    {
        DEVELOPMENT_SECRET,
        "secret",
        "changeme",
        "change-me",
        "changethis",
        "your-secret-key",
        "your-256-bit-secret",
        "supersecret",
        "super-secret-key",
        "jwt-secret",
        "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    }
)
MIN_SECRET_BYTES = 32


class JwtSettings(BaseSettings):
    """How access tokens are signed and verified. Refuses unsafe secrets outside development."""

    model_config = SettingsConfigDict(env_prefix="JWT_", extra="ignore")

    app_env: AppEnv = Field(AppEnv.DEVELOPMENT, validation_alias=AliasChoices("APP_ENV"))
    algorithm: Literal["HS256", "RS256"] = "HS256"
    secret: SecretStr | None = None
    public_key: str | None = None
    private_key: SecretStr | None = None
    issuer: str = "chat-auth"
    audience: str = "chat"
    leeway: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _refuse_unsafe_keys(self) -> Self:
        if self.algorithm == "HS256":
            self._check_secret()
        elif not self.public_key:
            raise ValueError("JWT_PUBLIC_KEY is required when JWT_ALGORITHM=RS256")
        if self.leeway < timedelta(0) or self.leeway > timedelta(minutes=5):
            raise ValueError("JWT_LEEWAY must be between 0 and 300 seconds")
        return self

    def _check_secret(self) -> None:
        if self.app_env == "development":
            if self.secret is None:
                self.secret = SecretStr(DEVELOPMENT_SECRET)
            return
        if self.secret is None:
            raise ValueError(f"JWT_SECRET is required when APP_ENV={self.app_env}")
        raw = self.secret.get_secret_value()
        if len(raw.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        if raw.strip().lower() in WELL_KNOWN_SECRETS:
            raise ValueError("JWT_SECRET is a well-known value; generate a random one")

    @property
    def verification_key(self) -> str:
        if self.algorithm == "RS256":
            assert self.public_key is not None  # guaranteed by the validator
            return self.public_key
        assert self.secret is not None
        return self.secret.get_secret_value()

    @property
    def signing_key(self) -> str:
        """The key the auth service signs with; verifying services never need it."""
        if self.algorithm == "RS256":
            if self.private_key is None:
                raise ValueError("JWT_PRIVATE_KEY is required to sign RS256 tokens")
            return self.private_key.get_secret_value()
        return self.verification_key


class TokenServiceSettings(HttpServiceSettings):
    """The settings of an HTTP service that verifies access tokens: the shared HTTP settings
    and the token settings (`JWT_*`), checked to be for the same environment."""

    jwt: JwtSettings

    @model_validator(mode="before")
    @classmethod
    def _tokens_for_this_environment(cls, data: Any) -> Any:
        # Unless given, the token settings are read (`JWT_*`) for the service's environment,
        # so that their secret checks run for the environment the service runs in.
        if isinstance(data, dict) and data.get("jwt") is None:
            data = {**data, "jwt": JwtSettings(app_env=data.get("app_env", AppEnv.DEVELOPMENT))}
        return data

    @model_validator(mode="after")
    def _same_environment_for_tokens(self) -> Self:
        # Token settings given for another environment would run the wrong secret checks.
        if self.jwt.app_env != self.app_env:
            raise ValueError(
                f"JWT settings are for {self.jwt.app_env}, the service for {self.app_env}"
            )
        return self
