"""The token table: each kind of token and exactly what verification makes of it."""

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from auth_validator import InvalidToken, JwtSettings, Principal, TokenVerifier, issue_access_token

SECRET = "k" * 16 + "test-secret-of-enough-length"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE_PEM, PUBLIC_PEM = _rsa_pair()
OTHER_PRIVATE_PEM, _ = _rsa_pair()


def hs_settings(**overrides: Any) -> JwtSettings:
    return JwtSettings(app_env="test", secret=SECRET, **overrides)


def rs_settings() -> JwtSettings:
    return JwtSettings(
        app_env="test", algorithm="RS256", public_key=PUBLIC_PEM, private_key=PRIVATE_PEM
    )


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sub": "42",
        "user_id": "42",
        "username": "alice",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + HOUR).timestamp()),
        "iss": "chat-auth",
        "aud": "chat",
        "type": "access",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def hs(**changes: Any) -> str:
    return str(jwt.encode(claims(**changes), SECRET, algorithm="HS256"))


def unsigned(**changes: Any) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims(**changes)).encode())}."


def tampered() -> str:
    header, _, signature = hs().split(".")
    payload = _b64(json.dumps(claims(user_id="1", sub="1", username="admin")).encode())
    return f"{header}.{payload}.{signature}"


def hs_signed_with_public_key() -> str:
    # The classic confusion attack: HMAC keyed with the RSA public key the verifier trusts.
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims()).encode())
    mac = hmac.new(PUBLIC_PEM.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(mac.digest())}"


VALID = Principal(user_id="42", username="alice")

HS_TABLE: list[tuple[str, Callable[[], str], Principal | None]] = [
    ("valid", lambda: hs(), VALID),
    ("expired", lambda: hs(exp=int((NOW - timedelta(minutes=1)).timestamp())), None),
    ("expired_within_leeway", lambda: hs(exp=int((NOW - timedelta(seconds=5)).timestamp())), VALID),
    ("iat_in_future", lambda: hs(iat=int((NOW + timedelta(minutes=5)).timestamp())), None),
    ("iat_within_leeway", lambda: hs(iat=int((NOW + timedelta(seconds=5)).timestamp())), VALID),
    ("no_exp", lambda: hs(exp=...), None),
    ("no_iat", lambda: hs(iat=...), None),
    ("no_sub", lambda: hs(sub=...), None),
    ("sub_differs_from_user_id", lambda: hs(sub="43"), None),
    ("alg_none", lambda: unsigned(), None),
    ("wrong_audience", lambda: hs(aud="someone-else"), None),
    ("no_audience", lambda: hs(aud=...), None),
    ("wrong_issuer", lambda: hs(iss="evil"), None),
    ("no_issuer", lambda: hs(iss=...), None),
    ("refresh_type", lambda: hs(type="refresh"), None),
    ("no_type", lambda: hs(type=...), None),
    ("tampered_payload", tampered, None),
    ("wrong_secret", lambda: str(jwt.encode(claims(), SECRET + "x", algorithm="HS256")), None),
    ("rs256_when_hs256_pinned", lambda: str(jwt.encode(claims(), PRIVATE_PEM, "RS256")), None),
    ("user_id_not_string", lambda: hs(user_id=42, sub="42"), None),
    ("empty_username", lambda: hs(username=""), None),
    ("garbage", lambda: "not-a-token", None),
    ("empty", lambda: "", None),
]


@pytest.mark.parametrize(
    ("token_factory", "expected"),
    [(f, e) for _, f, e in HS_TABLE],
    ids=[name for name, _, _ in HS_TABLE],
)
def test_hs256_token_table(token_factory: Callable[[], str], expected: Principal | None) -> None:
    verifier = TokenVerifier(hs_settings())
    token = token_factory()
    if expected is None:
        with pytest.raises(InvalidToken):
            verifier.verify(token, now=NOW)
    else:
        assert verifier.verify(token, now=NOW) == expected


RS_TABLE: list[tuple[str, Callable[[], str], Principal | None]] = [
    ("valid", lambda: str(jwt.encode(claims(), PRIVATE_PEM, "RS256")), VALID),
    ("other_private_key", lambda: str(jwt.encode(claims(), OTHER_PRIVATE_PEM, "RS256")), None),
    ("hs256_keyed_with_public_key", hs_signed_with_public_key, None),
    ("hs256_with_shared_secret", lambda: hs(), None),
    ("alg_none", lambda: unsigned(), None),
]


@pytest.mark.parametrize(
    ("token_factory", "expected"),
    [(f, e) for _, f, e in RS_TABLE],
    ids=[name for name, _, _ in RS_TABLE],
)
def test_rs256_token_table(token_factory: Callable[[], str], expected: Principal | None) -> None:
    verifier = TokenVerifier(rs_settings())
    token = token_factory()
    if expected is None:
        with pytest.raises(InvalidToken):
            verifier.verify(token, now=NOW)
    else:
        assert verifier.verify(token, now=NOW) == expected


@pytest.mark.parametrize("settings_factory", [hs_settings, rs_settings], ids=["HS256", "RS256"])
def test_issued_token_round_trips(settings_factory: Callable[[], JwtSettings]) -> None:
    settings = settings_factory()
    token = issue_access_token(settings, user_id="7", username="bob", lifetime=HOUR, now=NOW)
    assert TokenVerifier(settings).verify(token, now=NOW + timedelta(minutes=59)) == Principal(
        user_id="7", username="bob"
    )
    with pytest.raises(InvalidToken):
        TokenVerifier(settings).verify(token, now=NOW + HOUR + timedelta(seconds=11))


def test_issued_token_carries_every_design_claim() -> None:
    token = issue_access_token(hs_settings(), user_id="7", username="bob", lifetime=HOUR, now=NOW)
    payload = jwt.get_unverified_claims(token)
    assert payload == {
        "sub": "7",
        "user_id": "7",
        "username": "bob",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + HOUR).timestamp()),
        "iss": "chat-auth",
        "aud": "chat",
        "type": "access",
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_leeway_setting_is_honoured() -> None:
    strict = TokenVerifier(hs_settings(leeway=timedelta(0)))
    with pytest.raises(InvalidToken):
        strict.verify(hs(exp=int((NOW - timedelta(seconds=1)).timestamp())), now=NOW)
