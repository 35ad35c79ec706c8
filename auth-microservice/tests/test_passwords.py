"""Argon2id hashing through passlib."""

from prometheus_client import CollectorRegistry

from auth_service.passwords import PasswordHasher
from auth_service.settings import AuthSettings
from auth_validator import JwtSettings


def hasher(**overrides: int) -> PasswordHasher:
    settings = AuthSettings(
        app_env="development",
        jwt=JwtSettings(app_env="development"),
        firebase_auth_emulator_host="127.0.0.1:9099",
        **overrides,
    )
    return PasswordHasher(settings, CollectorRegistry())


def test_hash_is_argon2id_with_the_configured_cost() -> None:
    hashed = hasher().hash("correct horse battery")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "correct horse" not in hashed


def test_verify_accepts_only_the_right_password() -> None:
    passwords = hasher()
    hashed = passwords.hash("correct horse battery")
    assert passwords.verify("correct horse battery", hashed) == (True, None)
    assert passwords.verify("correct horse batterY", hashed) == (False, None)


def test_same_password_gets_a_different_salt() -> None:
    passwords = hasher()
    assert passwords.hash("same password") != passwords.hash("same password")


def test_unknown_user_verifies_a_dummy_and_fails() -> None:
    assert hasher().verify("anything at all", None) == (False, None)


def test_outdated_parameters_yield_a_replacement_hash() -> None:
    old = hasher(argon2_memory_cost_kib=8192, argon2_time_cost=1).hash("pw-123456")
    matches, replacement = hasher().verify("pw-123456", old)
    assert matches
    assert replacement is not None
    assert replacement.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
