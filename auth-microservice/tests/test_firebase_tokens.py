"""The login's `firebase_token` signs in at the Firebase Auth emulator as uid = user id."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.settings import AuthSettings
from auth_validator import JwtSettings
from devstack.health import port_open
from devstack.settings import Endpoints

FIREBASE_CUSTOM_TOKEN_AUDIENCE = (
    "https://identitytoolkit.googleapis.com/google.identity.identitytoolkit.v1.IdentityToolkit"
)


@pytest.fixture
def auth_emulator(stack: Endpoints) -> str:
    host, _, port = stack.firebase_auth_emulator_host.rpartition(":")
    if not port_open(host, int(port)):
        pytest.fail("Firebase Auth emulator not reachable (start the stack)", pytrace=False)
    return stack.firebase_auth_emulator_host


async def test_firebase_token_exchanges_for_an_id_token_of_the_user(
    api: Any, auth_emulator: str, stack: Endpoints
) -> None:
    created = (await api.sign_up("firebase_user")).json()
    login = (await api.log_in("firebase_user")).json()
    url = (
        f"http://{auth_emulator}/identitytoolkit.googleapis.com/v1/"
        "accounts:signInWithCustomToken?key=any-key"
    )
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            url, json={"token": login["firebase_token"], "returnSecureToken": True}
        )
    assert response.status_code == 200, response.text
    id_token = response.json()["idToken"]
    claims = jwt.get_unverified_claims(id_token)
    assert claims["user_id"] == str(created["id"])
    assert claims["sub"] == str(created["id"])
    assert claims["aud"] == stack.firebase_project


async def test_garbage_custom_token_is_refused_by_the_emulator(auth_emulator: str) -> None:
    # Guards the test above: the emulator does check what it is given.
    url = (
        f"http://{auth_emulator}/identitytoolkit.googleapis.com/v1/"
        "accounts:signInWithCustomToken?key=any-key"
    )
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(url, json={"token": "garbage", "returnSecureToken": True})
    assert response.status_code == 400


def test_with_a_service_account_key_the_token_is_signed_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": "demo-signed",
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": "auth@demo-signed.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    key_file = tmp_path / "service-account.json"
    key_file.write_text(json.dumps(account))
    settings = AuthSettings(
        app_env="test",
        jwt=JwtSettings(app_env="test", secret="s" * 40),
        firebase_auth_emulator_host=None,
        firebase_credentials_file=key_file,
        firebase_project="demo-signed",
    )
    minter = FirebaseTokenMinter(settings)
    try:
        token = minter.mint("42")
    finally:
        minter.close()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(
        token,
        public.decode(),
        algorithms=["RS256"],
        audience=FIREBASE_CUSTOM_TOKEN_AUDIENCE,
    )
    assert claims["uid"] == "42"
    assert claims["iss"] == claims["sub"] == account["client_email"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
