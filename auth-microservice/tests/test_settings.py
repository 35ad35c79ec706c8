"""Settings: environment names, development defaults, and refusals outside development."""

import json
from datetime import timedelta

import pytest
from pydantic import ValidationError

from auth_service.settings import AuthSettings
from devstack.testing import clear_environment

STRONG = "a-strong-random-secret-of-more-than-32-bytes"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch, "AUTH_", "JWT_")
    for name in [
        "APP_ENV",
        "DATABASE_URL",
        "AUTH_DATABASE_URL",
        "JWT_SECRET",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "AUTH_FIREBASE_AUTH_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "AUTH_FIREBASE_PROJECT",
    ]:
        monkeypatch.delenv(name, raising=False)


def test_development_defaults() -> None:
    settings = AuthSettings()
    assert settings.sqlalchemy_url == "postgresql+psycopg2://postgres@127.0.0.1:5433/auth"
    assert settings.firebase_auth_emulator_host == "127.0.0.1:9099"
    assert settings.firebase_project == "demo-chat"
    assert settings.access_token_lifetime == timedelta(minutes=15)
    assert settings.refresh_token_lifetime == timedelta(days=30)
    assert (settings.session_requests_per_address, settings.session_request_window) == (
        120,
        timedelta(minutes=1),
    )
    assert (settings.login_failures_per_username, settings.login_failures_per_address) == (10, 10)
    assert settings.login_failure_window == timedelta(minutes=15)
    assert (settings.signups_per_address, settings.signup_window) == (5, timedelta(hours=1))


def test_unprefixed_and_prefixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://u@db:5432/auth")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-other")
    monkeypatch.setenv("AUTH_LOGIN_FAILURE_WINDOW", "60")
    monkeypatch.setenv("AUTH_ACCESS_TOKEN_LIFETIME", "PT30M")
    settings = AuthSettings()
    assert settings.sqlalchemy_url == "postgresql+psycopg2://u@db:5432/auth"
    assert settings.firebase_project == "demo-other"
    assert settings.login_failure_window == timedelta(seconds=60)
    assert settings.access_token_lifetime == timedelta(minutes=30)
    monkeypatch.setenv("AUTH_DATABASE_URL", "postgresql+psycopg2://u@primary:5432/auth")
    assert AuthSettings().sqlalchemy_url == "postgresql+psycopg2://u@primary:5432/auth"


def test_production_requires_an_explicit_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    monkeypatch.setenv("AUTH_FIREBASE_CREDENTIALS_FILE", "/etc/firebase/key.json")
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        AuthSettings()
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://auth@db.internal/auth")
    assert AuthSettings().sqlalchemy_url.endswith("@db.internal/auth")


def test_production_refuses_the_development_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://auth@db.internal/auth")
    monkeypatch.setenv("AUTH_FIREBASE_CREDENTIALS_FILE", "/etc/firebase/key.json")
    with pytest.raises(ValidationError, match="JWT_SECRET is required"):
        AuthSettings()
    monkeypatch.setenv("JWT_SECRET", STRONG)
    assert AuthSettings().jwt.verification_key == STRONG


def test_production_refuses_the_auth_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://auth@db.internal/auth")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    with pytest.raises(ValidationError, match="must not be set in production"):
        AuthSettings()


def test_outside_development_a_firebase_key_or_emulator_is_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    with pytest.raises(ValidationError, match="AUTH_FIREBASE_CREDENTIALS_FILE is required"):
        AuthSettings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUTH_ARGON2_MEMORY_COST_KIB", "1024"),
        ("AUTH_LOGIN_FAILURES_PER_USERNAME", "0"),
        ("AUTH_ARGON2_TIME_COST", "0"),
        ("AUTH_LOGIN_FAILURE_WINDOW", "0"),
        ("AUTH_ACCESS_TOKEN_LIFETIME", "-60"),
        ("AUTH_SESSION_REQUESTS_PER_ADDRESS", "0"),
        ("AUTH_SESSION_REQUEST_WINDOW", "0"),
    ],
)
def test_unsafe_numbers_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        AuthSettings()


def test_jwt_settings_must_be_for_the_same_environment() -> None:
    from auth_validator import JwtSettings

    with pytest.raises(ValidationError, match="JWT settings are for development"):
        AuthSettings(app_env="test", jwt=JwtSettings(), firebase_auth_emulator_host="h:1")


def test_the_former_rate_limit_storage_name_still_works_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://stack:6379/0")
    monkeypatch.setenv("AUTH_RATE_LIMIT_STORAGE_URI", "redis://former:6379/0")
    with pytest.warns(FutureWarning, match="set AUTH_RATE_LIMIT_STORAGE instead"):
        assert AuthSettings().rate_limit_storage == "redis://former:6379/0"
    monkeypatch.setenv("AUTH_RATE_LIMIT_STORAGE", "redis://current:6379/0")
    assert AuthSettings().rate_limit_storage == "redis://current:6379/0"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"AUTH_ACCESS_TOKEN_LIFETIME": "P2D"}, "at most one day"),
        ({"AUTH_REFRESH_TOKEN_LIFETIME": "PT15M"}, "longer than AUTH_ACCESS_TOKEN_LIFETIME"),
        (
            {"AUTH_ACCESS_TOKEN_LIFETIME": "PT1H", "AUTH_REFRESH_TOKEN_LIFETIME": "PT30M"},
            "longer than AUTH_ACCESS_TOKEN_LIFETIME",
        ),
        ({"AUTH_REFRESH_TOKEN_LIFETIME": "P400D"}, "at most 365 days"),
    ],
    ids=["long_access", "refresh_equal", "refresh_shorter", "long_refresh"],
)
def test_token_lifetimes_that_make_no_sense_are_refused(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        AuthSettings()


def test_lifetimes_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_ACCESS_TOKEN_LIFETIME", "300")
    monkeypatch.setenv("AUTH_REFRESH_TOKEN_LIFETIME", "P7D")
    settings = AuthSettings()
    assert (settings.access_token_lifetime, settings.refresh_token_lifetime) == (
        timedelta(minutes=5),
        timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"JWT_SECRETS": json.dumps({"a": STRONG, "b": STRONG[::-1]})}, "must name one"),
        ({"JWT_SECRET": STRONG, "JWT_SIGNING_KEY_ID": "next"}, "'next' is not one of the keys"),
        ({"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": "pem"}, "JWT_PRIVATE_KEY is required"),
    ],
    ids=["several_keys_no_signer", "unknown_signer", "rs256_without_private_key"],
)
def test_the_issuer_refuses_to_start_without_a_signing_key(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        AuthSettings()
