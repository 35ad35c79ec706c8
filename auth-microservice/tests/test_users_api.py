"""Sign-up, lookup and search through the HTTP API, against a real, migrated Postgres."""

from typing import Any

import pytest

PREFIX = "/auth/api/v1"


async def count_users(api: Any) -> int:
    headers = await api.bearer_for("counter_user")
    response = await api.http.get(f"{PREFIX}/users/", params={"limit": 200}, headers=headers)
    return len(response.json()) - 1  # minus the counting user itself


@pytest.mark.parametrize("path", [f"{PREFIX}/users/", f"{PREFIX}/users"])
async def test_sign_up_returns_201_with_id_and_name(api: Any, path: str) -> None:
    response = await api.http.post(path, json={"username": "Alice_1", "password": "pa55word!"})
    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "username": "Alice_1"}
    assert isinstance(body["id"], int)


async def test_duplicate_username_is_409_in_any_letter_case(api: Any) -> None:
    assert (await api.sign_up("Bob.Smith")).status_code == 201
    for variant in ["Bob.Smith", "bob.smith", "BOB.SMITH"]:
        response = await api.sign_up(variant, "another-password")
        assert response.status_code == 409
        assert response.json() == {
            "detail": "This username is already taken.",
            "code": "username_taken",
        }
    # The original owner still logs in with the original password.
    assert (await api.log_in("bob.smith")).status_code == 200
    assert (await api.log_in("bob.smith", "another-password")).status_code == 401


BAD_SIGN_UPS = [
    ("unicode_username", {"username": "ålice", "password": "password1"}),
    ("cyrillic_lookalike", {"username": "\u0430lice", "password": "password1"}),
    ("emoji_username", {"username": "bob😀", "password": "password1"}),
    ("trailing_newline", {"username": "alice\n", "password": "password1"}),
    ("space", {"username": "al ice", "password": "password1"}),
    ("slash", {"username": "al/ice", "password": "password1"}),
    ("too_short_username", {"username": "ab", "password": "password1"}),
    ("too_long_username", {"username": "a" * 33, "password": "password1"}),
    ("overlong_username", {"username": "a" * 100_000, "password": "password1"}),
    ("too_short_password", {"username": "alice", "password": "1234567"}),
    ("too_long_password", {"username": "alice", "password": "p" * 129}),
    ("overlong_password", {"username": "alice", "password": "p" * 1_000_000}),
    ("missing_password", {"username": "alice"}),
    ("missing_username", {"password": "password1"}),
    ("number_username", {"username": 12345, "password": "password1"}),
    ("null_password", {"username": "alice", "password": None}),
    ("extra_field", {"username": "alice", "password": "password1", "is_admin": True}),
    ("not_an_object", ["alice", "password1"]),
]


@pytest.mark.parametrize("body", [b for _, b in BAD_SIGN_UPS], ids=[n for n, _ in BAD_SIGN_UPS])
async def test_malformed_sign_up_is_422_and_creates_nothing(api: Any, body: Any) -> None:
    response = await api.http.post(f"{PREFIX}/users/", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert isinstance(response.json()["detail"], list)
    assert await count_users(api) == 0


async def test_non_json_sign_up_is_422(api: Any) -> None:
    response = await api.http.post(
        f"{PREFIX}/users/",
        content=b"\xff\xfe garbage",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422


async def test_boundary_lengths_and_unicode_password_are_accepted(api: Any) -> None:
    assert (await api.sign_up("abc", "8chars!!")).status_code == 201
    assert (await api.sign_up("z" * 32, "p" * 128)).status_code == 201
    assert (await api.sign_up("unicode_pw", "pässwörd-ñ-日本")).status_code == 201
    assert (await api.log_in("unicode_pw", "pässwörd-ñ-日本")).status_code == 200


async def test_user_by_id_and_me(api: Any) -> None:
    headers = await api.bearer_for("carol")
    other = (await api.sign_up("dave")).json()
    me = await api.http.get(f"{PREFIX}/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["username"] == "carol"
    for path in [f"{PREFIX}/users/{other['id']}", f"{PREFIX}/users/{other['id']}/"]:
        response = await api.http.get(path, headers=headers)
        assert (response.status_code, response.json()) == (200, other)
    assert (await api.http.get(f"{PREFIX}/users/me/", headers=headers)).json() == me.json()


@pytest.mark.parametrize(
    ("user_id", "status", "code"),
    [
        ("999999", 404, "user_not_found"),
        ("abc", 422, "validation_error"),
        ("0", 422, "validation_error"),
        ("-1", 422, "validation_error"),
        ("1.5", 422, "validation_error"),
        (str(2**63), 422, "validation_error"),
        ("9" * 400, 422, "validation_error"),
    ],
)
async def test_user_by_bad_id(api: Any, user_id: str, status: int, code: str) -> None:
    headers = await api.bearer_for("erin")
    response = await api.http.get(f"{PREFIX}/users/{user_id}", headers=headers)
    assert (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/"),
        ("GET", "/users"),
        ("GET", "/users/me"),
        ("GET", "/users/1"),
    ],
)
async def test_user_endpoints_need_a_token(api: Any, method: str, path: str) -> None:
    response = await api.http.request(method, f"{PREFIX}{path}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated.", "code": "not_authenticated"}


async def test_search_by_prefix_ignores_case_and_treats_underscore_literally(api: Any) -> None:
    headers = await api.bearer_for("searcher")
    for name in ["Anna", "annabel", "ANNE", "a_b", "axb", "bob"]:
        assert (await api.sign_up(name)).status_code == 201

    async def names(q: str) -> list[str]:
        response = await api.http.get(f"{PREFIX}/users/", params={"q": q}, headers=headers)
        assert response.status_code == 200
        return [user["username"] for user in response.json()]

    assert await names("ann") == ["Anna", "annabel", "ANNE"]
    assert await names("ANNA") == ["Anna", "annabel"]
    assert await names("a_") == ["a_b"]
    assert await names("zzz") == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "x"},
        {"after_id": -1},
        {"after_id": 2**63},
        {"q": ""},
        {"q": "a%"},
        {"q": "ä"},
        {"q": "a" * 33},
    ],
)
async def test_out_of_range_search_parameters_are_422(api: Any, params: dict[str, Any]) -> None:
    headers = await api.bearer_for("ranger")
    response = await api.http.get(f"{PREFIX}/users/", params=params, headers=headers)
    assert response.status_code == 422


async def test_list_pages_by_id_with_default_limit_50(api: Any) -> None:
    headers = await api.bearer_for("pager")
    for index in range(59):
        assert (await api.sign_up(f"user{index:02d}", "password1")).status_code == 201
    first = (await api.http.get(f"{PREFIX}/users/", headers=headers)).json()
    assert len(first) == 50
    ids = [user["id"] for user in first]
    assert ids == sorted(ids)
    second = await api.http.get(
        f"{PREFIX}/users", params={"after_id": ids[-1], "limit": 200}, headers=headers
    )
    assert len(second.json()) == 10
    assert min(u["id"] for u in second.json()) > ids[-1]
