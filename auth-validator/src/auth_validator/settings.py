"""Token settings (`JWT_` prefix), shared by the auth service and every service that verifies."""

from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import AliasChoices, Field, SecretStr, StringConstraints, model_validator
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


# A key id (`kid`): short, printable, safe in a header and a log line.
KeyId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
# The id of the one key given the single-key way (`JWT_SECRET`, `JWT_PUBLIC_KEY`), and the key
# a token without a `kid` header (issued before key ids existed) is checked with.
DEFAULT_KEY_ID = "default"


class JwtSettings(BaseSettings):
    """How access tokens are signed and verified: a set of keys by id (`kid`), one of which
    signs. Refuses unsafe secrets outside development."""

    model_config = SettingsConfigDict(env_prefix="JWT_", extra="ignore")

    app_env: AppEnv = Field(AppEnv.DEVELOPMENT, validation_alias=AliasChoices("APP_ENV"))
    algorithm: Literal["HS256", "RS256"] = "HS256"
    # The single-key way: one key, under the id `key_id`.
    secret: SecretStr | None = None
    public_key: str | None = None
    key_id: KeyId = DEFAULT_KEY_ID
    # The key set (JSON objects of id -> key), beside or instead of the single key.
    secrets: dict[KeyId, SecretStr] = {}
    public_keys: dict[KeyId, str] = {}
    # Which key the auth service signs with; may be left out when there is only one.
    signing_key_id: KeyId | None = None
    private_key: SecretStr | None = None
    issuer: str = "chat-auth"
    audience: str = "chat"
    leeway: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _refuse_unsafe_keys(self) -> Self:
        if self.algorithm == "HS256":
            self._check_secrets()
        elif not self.public_key and not self.public_keys:
            raise ValueError(
                "JWT_PUBLIC_KEY is required when JWT_ALGORITHM=RS256 "
                "(or a key set in JWT_PUBLIC_KEYS)"
            )
        self._check_key_ids()
        if self.leeway < timedelta(0) or self.leeway > timedelta(minutes=5):
            raise ValueError("JWT_LEEWAY must be between 0 and 300 seconds")
        return self

    def _check_secrets(self) -> None:
        if self.app_env == "development":
            if self.secret is None and not self.secrets:
                self.secret = SecretStr(DEVELOPMENT_SECRET)
            return
        if self.secret is None and not self.secrets:
            raise ValueError(
                f"JWT_SECRET is required when APP_ENV={self.app_env} (or a key set in JWT_SECRETS)"
            )
        if self.secret is not None:
            _check_secret("JWT_SECRET", self.secret.get_secret_value())
        for key_id, secret in self.secrets.items():
            _check_secret(f"JWT_SECRETS[{key_id}]", secret.get_secret_value())

    def _check_key_ids(self) -> None:
        single, several = (
            (self.secret, self.secrets)
            if self.algorithm == "HS256"
            else (self.public_key, self.public_keys)
        )
        if single is not None and self.key_id in several:
            raise ValueError(f"key id {self.key_id!r} is given twice (JWT_KEY_ID and the key set)")
        known = sorted(self.verification_keys)
        if self.signing_key_id is not None and self.signing_key_id not in known:
            raise ValueError(
                f"JWT_SIGNING_KEY_ID {self.signing_key_id!r} is not one of the keys {known}"
            )

    @property
    def verification_keys(self) -> dict[str, str]:
        """Every key a token may be signed with, by id: the secrets for HS256, the public
        keys for RS256."""
        if self.algorithm == "RS256":
            keys = dict(self.public_keys)
            if self.public_key:
                keys[self.key_id] = self.public_key
            return keys
        keys = {key_id: secret.get_secret_value() for key_id, secret in self.secrets.items()}
        if self.secret is not None:
            keys[self.key_id] = self.secret.get_secret_value()
        return keys

    @property
    def signing_kid(self) -> str:
        """The id of the key new tokens are signed with (their `kid` header)."""
        if self.signing_key_id is not None:
            return self.signing_key_id
        known = sorted(self.verification_keys)
        if len(known) > 1:
            # Only the issuer needs to know; a service that only verifies may leave it out.
            raise ValueError(f"JWT_SIGNING_KEY_ID must name one of the keys {known}")
        return known[0]

    @property
    def verification_key(self) -> str:
        """The key that checks what this service signs."""
        return self.verification_keys[self.signing_kid]

    @property
    def signing_key(self) -> str:
        """The key the auth service signs with; verifying services never need it."""
        if self.algorithm == "RS256":
            if self.private_key is None:
                raise ValueError("JWT_PRIVATE_KEY is required to sign RS256 tokens")
            return self.private_key.get_secret_value()
        return self.verification_key


def _check_secret(name: str, raw: str) -> None:
    if len(raw.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
    if raw.strip().lower() in WELL_KNOWN_SECRETS:
        raise ValueError(f"{name} is a well-known value; generate a random one")


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
