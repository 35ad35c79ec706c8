"""Login through the HTTP API: tokens, wrong credentials, malformed forms, forged tokens."""

import base64
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from auth_validator import JwtSettings, Principal, TokenVerifier, issue_access_token
from auth_validator.settings import DEVELOPMENT_SECRET

PREFIX = "/auth/api/v1"
TEST_SECRET = "auth-service-test-secret-0123456789abcdef"


@pytest.mark.parametrize("path", [f"{PREFIX}/login/", f"{PREFIX}/login"])
async def test_login_returns_tokens_the_validator_accepts(api: Any, path: str) -> None:
    created = (await api.sign_up("Frank")).json()
    form = {"username": "frank", "password": "correct horse battery", "grant_type": "password"}
    response = await api.http.post(path, data=form)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "id",
        "username",
        "firebase_token",
        "refresh_token",
        "refresh_expires_in",
        "session_id",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_expires_in"] == 30 * 24 * 3600
    assert body["id"] == str(created["id"])
    assert body["username"] == "Frank"
    assert body["firebase_token"]
    verifier = TokenVerifier(JwtSettings(app_env="test", secret=TEST_SECRET))
    assert verifier.verify(body["access_token"]) == Principal(str(created["id"]), "Frank")
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["sid"] == body["session_id"]
    assert jwt.get_unverified_header(body["access_token"])["kid"] == "default"


async def test_wrong_password_and_unknown_user_get_the_same_401(api: Any) -> None:
    await api.sign_up("grace")
    wrong_password = await api.log_in("grace", "not the password")
    unknown_user = await api.log_in("nobody_here", "not the password")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json() == {
            "detail": "Incorrect username or password.",
            "code": "invalid_credentials",
        }


async def test_unknown_user_costs_a_password_hash(api: Any) -> None:
    """Timing must not reveal which usernames exist: a miss verifies a dummy hash."""
    await api.sign_up("heidi")

    async def seconds(username: str) -> float:
        started = time.perf_counter()
        assert (await api.log_in(username, "wrong-password")).status_code == 401
        return time.perf_counter() - started

    # The fastest of several tries: a busy machine (other suites beside this one) only ever
    # adds time, so the minimum is the cost of the work itself.
    known = min([await seconds("heidi") for _ in range(7)])
    unknown = min([await seconds("ivan_unknown") for _ in range(7)])
    # Without the dummy hash a miss takes ~1 ms against tens of ms for a hash.
    assert unknown > known * 0.5, (known, unknown)


MALFORMED_LOGINS = [
    ("missing_password", {"username": "judy"}),
    ("missing_username", {"password": "password1"}),
    ("empty_password", {"username": "judy", "password": ""}),
    ("unicode_username", {"username": "jüdy", "password": "password1"}),
    ("overlong_username", {"username": "j" * 10_000, "password": "password1"}),
    ("overlong_password", {"username": "judy", "password": "p" * 10_000}),
    ("wrong_grant_type", {"username": "judy", "password": "password1", "grant_type": "code"}),
]


@pytest.mark.parametrize(
    "form", [f for _, f in MALFORMED_LOGINS], ids=[n for n, _ in MALFORMED_LOGINS]
)
async def test_malformed_login_form_is_422(api: Any, form: dict[str, str]) -> None:
    response = await api.http.post(f"{PREFIX}/login/", data=form)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_login_with_json_body_is_422(api: Any) -> None:
    await api.sign_up("judy")
    body = {"username": "judy", "password": "correct horse battery"}
    response = await api.http.post(f"{PREFIX}/login/", json=body)
    assert response.status_code == 422


def forged_tokens(user_id: str) -> dict[str, str]:
    """Tokens an attacker could make for `user_id` without the service's secret."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "user_id": user_id,
        "username": "mallory",
        "iat": now,
        "exp": now + 600,
        "iss": "chat-auth",
        "aud": "chat",
        "type": "access",
    }
    header_none = _b64({"alg": "none", "typ": "JWT"})
    genuine = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    head, _, signature = genuine.split(".")
    return {
        "alg_none": f"{header_none}.{_b64(claims)}.",
        "wrong_secret": jwt.encode(claims, "guessed-secret-" + "x" * 30, algorithm="HS256"),
        "development_secret": jwt.encode(claims, DEVELOPMENT_SECRET, algorithm="HS256"),
        "tampered": f"{head}.{_b64({**claims, 'username': 'root'})}.{signature}",
        "expired": jwt.encode({**claims, "exp": now - 60}, TEST_SECRET, algorithm="HS256"),
        "no_exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, TEST_SECRET, algorithm="HS256"
        ),
        "wrong_audience": jwt.encode({**claims, "aud": "other"}, TEST_SECRET, algorithm="HS256"),
        "refresh_type": jwt.encode({**claims, "type": "refresh"}, TEST_SECRET, algorithm="HS256"),
    }


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


async def test_forged_tokens_are_refused_by_the_service(api: Any) -> None:
    created = (await api.sign_up("mallory")).json()
    for name, token in forged_tokens(str(created["id"])).items():
        response = await api.http.get(
            f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, name
        assert response.headers["WWW-Authenticate"] == "Bearer", name


async def test_a_correctly_signed_token_is_accepted(api: Any) -> None:
    created = (await api.sign_up("trent")).json()
    settings = JwtSettings(app_env="test", secret=TEST_SECRET)
    token = issue_access_token(
        settings, user_id=str(created["id"]), username="trent", lifetime=timedelta(minutes=1)
    )
    response = await api.http.get(
        f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json() == created


async def test_outdated_hash_is_upgraded_on_login(make_api: Any) -> None:
    cheap = await make_api(argon2_memory_cost_kib=8192, argon2_time_cost=1)
    await cheap.sign_up("upgrader")
    current = await make_api()
    assert (await current.log_in("upgrader")).status_code == 200
    sessions = current.app.state.resources.sessions
    from auth_service.users.repository import UserRepository

    with sessions() as session:
        user = UserRepository(session).by_username("upgrader")
        assert user is not None
        assert user.hashed_password.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (await current.log_in("upgrader")).status_code == 200


async def test_rs256_tokens_verify_with_only_the_public_key(make_api: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signing = JwtSettings(app_env="test", algorithm="RS256", public_key=public, private_key=private)
    api = await make_api(jwt=signing)
    created = (await api.sign_up("rsa_user")).json()
    token = (await api.log_in("rsa_user")).json()["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    verifying_only = JwtSettings(app_env="test", algorithm="RS256", public_key=public)
    assert TokenVerifier(verifying_only).verify(token) == Principal(str(created["id"]), "rsa_user")
    me = await api.http.get(f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == created
    # The same claims under HS256 are refused: only RS256 is accepted (the key-confusion
    # variant, HMAC keyed with this public key, is in the auth-validator token table).
    forged = jwt.encode(jwt.get_unverified_claims(token), "unused", algorithm="HS256")
    refused = await api.http.get(
        f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {forged}"}
    )
    assert refused.status_code == 401
