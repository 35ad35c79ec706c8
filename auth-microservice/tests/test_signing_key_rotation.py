"""Rotating the signing key through the running service: nobody is logged out, and a key
removed from the set makes its tokens a 401."""

from typing import Any

from jose import jwt

from auth_validator import JwtSettings
from auth_validator.tokens import UNKNOWN_KEY_DETAIL

PREFIX = "/auth/api/v1"
TEST_JWT_SECRET = "auth-service-test-secret-0123456789abcdef"  # the suite's single key
NEW_SECRET = "next-signing-key-" + "n" * 32


async def me(api: Any, access_token: str) -> Any:
    return await api.http.get(
        f"{PREFIX}/users/me", headers={"Authorization": f"Bearer {access_token}"}
    )


async def test_rotating_the_signing_key_keeps_sessions_and_removal_refuses_old_tokens(
    make_api: Any,
) -> None:
    before = await make_api()  # JWT_SECRET alone: the one key `default`
    await before.sign_up("keeper")
    grant = (await before.log_in("keeper")).json()
    old_access = grant["access_token"]
    assert jwt.get_unverified_header(old_access)["kid"] == "default"

    # Step 1 and 2: the new key joins the set and signs; the old one still verifies.
    during = await make_api(
        jwt=JwtSettings(
            app_env="test",
            secret=TEST_JWT_SECRET,
            secrets={"2027-01": NEW_SECRET},
            signing_key_id="2027-01",
        )
    )
    assert (await me(during, old_access)).status_code == 200
    renewed = await during.http.post(
        f"{PREFIX}/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert renewed.status_code == 200, renewed.text
    new_access = renewed.json()["access_token"]
    assert jwt.get_unverified_header(new_access)["kid"] == "2027-01"
    assert (await me(during, new_access)).status_code == 200
    # A replica still on the old set does not know the new key: roll out verifiers first.
    assert (await me(before, new_access)).status_code == 401

    # Step 3: the old key is removed.
    after = await make_api(jwt=JwtSettings(app_env="test", secrets={"2027-01": NEW_SECRET}))
    refused = await me(after, old_access)
    assert refused.status_code == 401
    assert refused.json() == {"detail": UNKNOWN_KEY_DETAIL, "code": "invalid_token"}
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    logout_all = await after.http.post(
        f"{PREFIX}/sessions/logout-all", headers={"Authorization": f"Bearer {old_access}"}
    )
    assert logout_all.status_code == 401
    assert (await me(after, new_access)).status_code == 200
    # The session outlived both keys: it refreshes under the new set alone.
    again = await after.http.post(
        f"{PREFIX}/sessions/refresh", json={"refresh_token": renewed.json()["refresh_token"]}
    )
    assert again.status_code == 200, again.text
