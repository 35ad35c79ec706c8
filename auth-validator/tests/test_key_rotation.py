"""Signing keys by id: tokens name their key (`kid`), verifiers accept a set, and a key can be
rotated without refusing the tokens already issued, until it is removed."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from pydantic import ValidationError

from auth_validator import InvalidToken, JwtSettings, Principal, TokenVerifier, issue_access_token
from auth_validator.settings import DEFAULT_KEY_ID
from auth_validator.tokens import UNKNOWN_KEY_DETAIL

OLD = "old-key-" + "o" * 40
NEW = "new-key-" + "n" * 40
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LIFETIME = timedelta(minutes=15)
ALICE = Principal(user_id="42", username="alice")


def issue(settings: JwtSettings, **extra: Any) -> str:
    return issue_access_token(
        settings, user_id="42", username="alice", lifetime=LIFETIME, now=NOW, **extra
    )


def test_tokens_name_the_signing_key_and_carry_the_session() -> None:
    settings = JwtSettings(app_env="test", secrets={"2026-01": NEW})
    token = issue(settings, session_id="s-1")
    assert jwt.get_unverified_header(token)["kid"] == "2026-01"
    assert jwt.get_unverified_claims(token)["sid"] == "s-1"
    assert TokenVerifier(settings).verify(token, now=NOW) == ALICE


def test_the_single_secret_is_a_one_key_set_named_default() -> None:
    settings = JwtSettings(app_env="test", secret=OLD)
    assert settings.verification_keys == {DEFAULT_KEY_ID: OLD}
    assert jwt.get_unverified_header(issue(settings))["kid"] == DEFAULT_KEY_ID


def test_rotation_keeps_old_tokens_until_they_expire_and_removal_refuses_them() -> None:
    before = JwtSettings(app_env="test", secret=OLD)
    old_token = issue(before)
    # Step 1: the new key is added, the old one kept for verification; the issuer signs new.
    during = JwtSettings(app_env="test", secret=OLD, secrets={"k2": NEW}, signing_key_id="k2")
    new_token = issue(during)
    assert jwt.get_unverified_header(new_token)["kid"] == "k2"
    verifier = TokenVerifier(during)
    assert verifier.verify(old_token, now=NOW + LIFETIME - timedelta(seconds=1)) == ALICE
    assert verifier.verify(new_token, now=NOW) == ALICE
    with pytest.raises(InvalidToken) as expired:
        verifier.verify(old_token, now=NOW + LIFETIME + timedelta(minutes=1))
    assert expired.value.code == "token_expired"
    # Step 2: the old key is removed; what it signed is refused, what the new one signed is not.
    after = JwtSettings(app_env="test", secrets={"k2": NEW})
    with pytest.raises(InvalidToken) as refused:
        TokenVerifier(after).verify(old_token, now=NOW)
    assert (refused.value.code, refused.value.detail) == ("invalid_token", UNKNOWN_KEY_DETAIL)
    assert TokenVerifier(after).verify(new_token, now=NOW) == ALICE


def test_a_verifier_not_yet_given_the_new_key_refuses_its_tokens() -> None:
    # Why verifiers get the new key before the issuer signs with it.
    new_only = JwtSettings(app_env="test", secrets={"k2": NEW})
    with pytest.raises(InvalidToken, match="does not accept"):
        TokenVerifier(JwtSettings(app_env="test", secret=OLD)).verify(issue(new_only), now=NOW)


def test_a_known_kid_does_not_vouch_for_another_key() -> None:
    settings = JwtSettings(app_env="test", secrets={"a": OLD, "b": NEW}, signing_key_id="a")
    claims = jwt.get_unverified_claims(issue(settings))
    forged = jwt.encode(claims, "attacker-" + "x" * 40, algorithm="HS256", headers={"kid": "a"})
    crossed = jwt.encode(claims, NEW, algorithm="HS256", headers={"kid": "a"})
    for token in (forged, crossed):
        with pytest.raises(InvalidToken):
            TokenVerifier(settings).verify(token, now=NOW)


@pytest.mark.parametrize("kid", [5, None, ["a"], {"a": 1}, "", "nope"])
def test_a_kid_that_names_no_key_is_refused(kid: object) -> None:
    settings = JwtSettings(app_env="test", secret=OLD)
    claims = jwt.get_unverified_claims(issue(settings))
    token = jwt.encode(claims, OLD, algorithm="HS256", headers={"kid": kid})
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(token, now=NOW)


def test_tokens_without_kid_use_the_single_key_only() -> None:
    claims = jwt.get_unverified_claims(issue(JwtSettings(app_env="test", secret=OLD)))
    kidless = jwt.encode(claims, OLD, algorithm="HS256")
    assert TokenVerifier(JwtSettings(app_env="test", secret=OLD)).verify(kidless, now=NOW) == ALICE
    set_only = JwtSettings(app_env="test", secrets={"k1": OLD})
    with pytest.raises(InvalidToken):
        TokenVerifier(set_only).verify(kidless, now=NOW)


def test_rs256_public_keys_rotate_the_same_way() -> None:
    (old_private, old_public), (new_private, new_public) = _rsa_pair(), _rsa_pair()
    before = JwtSettings(
        app_env="test", algorithm="RS256", public_key=old_public, private_key=old_private
    )
    old_token = issue(before)
    during = JwtSettings(
        app_env="test",
        algorithm="RS256",
        public_keys={"default": old_public, "r2": new_public},
        signing_key_id="r2",
        private_key=new_private,
    )
    new_token = issue(during)
    verifying = JwtSettings(
        app_env="test", algorithm="RS256", public_keys={"default": old_public, "r2": new_public}
    )
    assert TokenVerifier(verifying).verify(old_token, now=NOW) == ALICE
    assert TokenVerifier(verifying).verify(new_token, now=NOW) == ALICE
    after = JwtSettings(app_env="test", algorithm="RS256", public_keys={"r2": new_public})
    with pytest.raises(InvalidToken, match="does not accept"):
        TokenVerifier(after).verify(old_token, now=NOW)


def test_the_key_set_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("JWT_SECRETS", json.dumps({"2026-11": OLD, "2026-12": NEW}))
    monkeypatch.setenv("JWT_SIGNING_KEY_ID", "2026-12")
    settings = JwtSettings()
    assert settings.verification_keys == {"2026-11": OLD, "2026-12": NEW}
    assert (settings.signing_kid, settings.signing_key) == ("2026-12", NEW)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"secrets": {"a": OLD}, "signing_key_id": "b"}, "'b' is not one of the keys"),
        ({"secret": OLD, "signing_key_id": "k2"}, "'k2' is not one of the keys"),
        ({"secret": OLD, "secrets": {"default": NEW}}, "given twice"),
        ({"secrets": {"a": OLD, "weak": "short"}, "signing_key_id": "a"}, r"JWT_SECRETS\[weak\]"),
        ({"secrets": {"bad id!": OLD}}, "secrets"),
        ({"secrets": {"x" * 65: OLD}}, "secrets"),
    ],
    ids=[
        "unknown_signer",
        "unknown_signer_single",
        "twice",
        "weak",
        "bad_id",
        "long_id",
    ],
)
def test_key_sets_that_cannot_work_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        JwtSettings(app_env="production", **values)


def test_several_keys_verify_without_a_signer_but_cannot_sign() -> None:
    settings = JwtSettings(app_env="test", secrets={"a": OLD, "b": NEW})
    token = issue(JwtSettings(app_env="test", secrets={"b": NEW}))
    assert TokenVerifier(settings).verify(token, now=NOW) == ALICE
    with pytest.raises(ValueError, match="JWT_SIGNING_KEY_ID must name one of the keys"):
        issue(settings)


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
