"""The login's `firebase_token` signs in at the Firebase Auth emulator as uid = user id."""

from typing import Any

import httpx
import pytest
from jose import jwt

from devstack.health import port_open
from devstack.settings import Endpoints


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
