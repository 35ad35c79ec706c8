"""Settings refuse secrets that would make tokens forgeable outside development."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from auth_validator import JwtSettings
from auth_validator.settings import DEVELOPMENT_SECRET

STRONG = "s3cr3t-" + "x" * 40


def test_development_falls_back_to_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", "development")
    settings = JwtSettings()
    assert settings.verification_key == DEVELOPMENT_SECRET


@pytest.mark.parametrize("app_env", ["test", "production"])
def test_missing_secret_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch, app_env: str
) -> None:
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("APP_ENV", app_env)
    with pytest.raises(ValidationError, match="JWT_SECRET is required"):
        JwtSettings()


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("short-secret", "at least 32 bytes"),
        ("é" * 15, "at least 32 bytes"),  # 30 bytes in UTF-8
        (DEVELOPMENT_SECRET, "well-known"),
        ("09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7", "well-known"),
    ],
)
def test_weak_secrets_are_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, secret: str, message: str
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", secret)
    with pytest.raises(ValidationError, match=message):
        JwtSettings()


def test_environment_is_read_with_the_jwt_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG)
    monkeypatch.setenv("JWT_ISSUER", "issuer-x")
    monkeypatch.setenv("JWT_AUDIENCE", "aud-y")
    monkeypatch.setenv("JWT_LEEWAY", "3")
    settings = JwtSettings()
    assert (settings.issuer, settings.audience, settings.leeway) == (
        "issuer-x",
        "aud-y",
        timedelta(seconds=3),
    )
    assert settings.verification_key == STRONG


def test_rs256_needs_a_public_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    monkeypatch.delenv("JWT_PUBLIC_KEY", raising=False)
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY is required"):
        JwtSettings()


def test_unknown_algorithm_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_ALGORITHM", "none")
    with pytest.raises(ValidationError):
        JwtSettings()


def test_excessive_leeway_is_refused() -> None:
    with pytest.raises(ValidationError, match="JWT_LEEWAY"):
        JwtSettings(app_env="test", secret=STRONG, leeway=timedelta(hours=1))
