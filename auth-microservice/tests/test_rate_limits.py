"""Brute-force and sign-up limits: 429 with Retry-After, per name and address."""

import asyncio
from datetime import timedelta
from typing import Any

PREFIX = "/auth/api/v1"


async def fail_logins(client: Any, username: str, times: int) -> list[int]:
    form = {"username": username, "password": "wrong-password"}
    return [(await client.post(f"{PREFIX}/login/", data=form)).status_code for _ in range(times)]


async def test_eleventh_attempt_on_a_username_is_429_even_with_the_right_password(
    make_api: Any,
) -> None:
    api = await make_api(login_failures_per_username=10, login_failures_per_address=10_000)
    await api.sign_up("victim")
    assert await fail_logins(api.http, "victim", 10) == [401] * 10
    # From another address, with the right password and another letter case: still locked.
    async with api.from_address("10.0.0.7") as elsewhere:
        response = await elsewhere.post(
            f"{PREFIX}/login/", data={"username": "VICTIM", "password": "correct horse battery"}
        )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert 15 * 60 - 30 <= retry_after <= 15 * 60


async def test_address_limit_spans_usernames(make_api: Any) -> None:
    api = await make_api(login_failures_per_username=10_000, login_failures_per_address=10)
    await api.sign_up("bystander")
    statuses = []
    for index in range(10):
        statuses += await fail_logins(api.http, f"guess{index}", 1)
    assert statuses == [401] * 10
    blocked = await api.log_in("bystander")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # Another address is not affected.
    async with api.from_address("10.0.0.8") as other:
        response = await other.post(
            f"{PREFIX}/login/", data={"username": "bystander", "password": "correct horse battery"}
        )
    assert response.status_code == 200


async def test_parallel_guesses_cannot_exceed_the_username_budget(make_api: Any) -> None:
    api = await make_api(login_failures_per_username=5, login_failures_per_address=10_000)
    await api.sign_up("target")
    form = {"username": "target", "password": "wrong-password"}
    responses = await asyncio.gather(
        *(api.http.post(f"{PREFIX}/login/", data=form) for _ in range(12))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * 5 + [429] * 7


async def test_limit_lifts_when_the_window_passes(make_api: Any) -> None:
    api = await make_api(login_failures_per_username=2, login_failure_window=timedelta(seconds=2))
    await api.sign_up("patient")
    assert await fail_logins(api.http, "patient", 3) == [401, 401, 429]
    await asyncio.sleep(2.2)
    assert (await api.log_in("patient")).status_code == 200


async def test_successful_login_clears_the_username_failures(make_api: Any) -> None:
    api = await make_api(login_failures_per_username=3)
    await api.sign_up("typo_prone")
    assert await fail_logins(api.http, "typo_prone", 2) == [401, 401]
    assert (await api.log_in("typo_prone")).status_code == 200
    assert await fail_logins(api.http, "typo_prone", 3) == [401, 401, 401]
    assert (await api.log_in("typo_prone")).status_code == 429


async def test_sixth_sign_up_from_one_address_in_an_hour_is_429(make_api: Any) -> None:
    api = await make_api(signups_per_address=5)
    statuses = [(await api.sign_up(f"spammer{index}")).status_code for index in range(5)]
    assert statuses == [201] * 5
    blocked = await api.sign_up("spammer5")
    assert blocked.status_code == 429
    assert 3600 - 30 <= int(blocked.headers["Retry-After"]) <= 3600
    async with api.from_address("10.0.0.9") as other:
        response = await other.post(
            f"{PREFIX}/users/", json={"username": "spammer5", "password": "password1"}
        )
    assert response.status_code == 201
    # The refused attempt created nothing: the name was free for the other address.
