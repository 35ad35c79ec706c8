"""Inputs crafted to break decoding or hashing: always a 4xx, never a 500."""

from typing import Any

import pytest

PREFIX = "/auth/api/v1"


@pytest.mark.parametrize(
    "raw_body",
    [
        b'{"username": "surrogate", "password": "\\udc80abcdefgh"}',
        b'{"username": "surro\\ud800gate", "password": "abcdefgh"}',
        b'{"username": "nul", "password": "abc\\u0000defgh", "x": 1}',
        b'{"username": "deep", "password": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"username": "invalid_utf8", "password": "\xed\xb2\x80abcdefgh"}',
    ],
    ids=["lone_surrogate_password", "surrogate_username", "extra_field", "deep", "bad_utf8"],
)
async def test_hostile_sign_up_bodies_are_4xx(api: Any, raw_body: bytes) -> None:
    response = await api.http.post(
        f"{PREFIX}/users/", content=raw_body, headers={"Content-Type": "application/json"}
    )
    # 422 for content; FastAPI answers 400 when the JSON is too deeply nested to parse.
    assert response.status_code in (400, 422), response.text
    assert response.json()["code"] in ("validation_error", "bad_request")


async def test_nul_in_password_is_just_a_character(api: Any) -> None:
    assert (await api.sign_up("nul_user", "abc\x00defgh")).status_code == 201
    assert (await api.log_in("nul_user", "abc\x00defgh")).status_code == 200
    assert (await api.log_in("nul_user", "abc")).status_code == 401


@pytest.mark.parametrize(
    "raw_form",
    [
        b"username=alice&password=%ED%B2%80abcdefgh",
        b"username=%FF%FE&password=abcdefgh",
        b"username=alice&password=abc%00defgh&password=second",
    ],
    ids=["surrogate_bytes_password", "invalid_utf8_username", "repeated_field"],
)
async def test_hostile_login_forms_are_4xx(api: Any, raw_form: bytes) -> None:
    response = await api.http.post(
        f"{PREFIX}/login/",
        content=raw_form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert "code" in response.json()
