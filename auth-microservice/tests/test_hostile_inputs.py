"""Inputs crafted to break decoding, hashing or memory: always a clear 4xx in the documented
shape (422 with a list of problems, any other status `{"detail", "code"}`), never a 500, and
nothing stored."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from auth_service.sessions.models import RefreshToken, UserSession
from auth_service.users.models import User

PREFIX = "/auth/api/v1"
TEN_MB = 10 * 1024 * 1024
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def stored_users(api: Any) -> int:
    with api.app.state.resources.sessions() as session:
        count: int = session.scalar(select(func.count()).select_from(User))
    return count


def session_state(api: Any) -> list[Any]:
    """Every refresh token's rotation and every session's revocation: what a refused
    session request must leave as it was."""
    with api.app.state.resources.sessions() as session:
        tokens = session.execute(select(RefreshToken.token_hash, RefreshToken.rotated_at))
        sessions = session.execute(select(UserSession.id, UserSession.revoked_at))
        return sorted(map(tuple, tokens)) + sorted(map(tuple, sessions))


def assert_validation_error(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert isinstance(body["detail"], list)
    assert all({"loc", "msg", "type"} <= problem.keys() for problem in body["detail"])


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize(
    "raw_body",
    [
        b'{"username": "surrogate", "password": "\\udc80abcdefgh"}',
        b'{"username": "surro\\ud800gate", "password": "abcdefgh"}',
        b'{"username": "nul", "password": "abc\\u0000defgh", "x": 1}',
        b'{"username": "deep", "password": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        b'{"username": "invalid_utf8", "password": "\xed\xb2\x80abcdefgh"}',
        b'{"username": "not_utf8\xff\xfe", "password": "abcdefgh"}',
        b'{"username": "raw_nul\x00", "password": "abcdefgh"}',
        b'{"username": "truncated", "password": "abcd',
        b'{"username": 1' + b"0" * 5_000 + b', "password": "abcdefgh"}',
        b'{"username": "inf", "password": 1e999}',
        b'"just a string"',
        b"",
    ],
    ids=[
        "lone_surrogate_password",
        "surrogate_username",
        "extra_field",
        "deep",
        "encoded_surrogate",
        "not_utf8",
        "raw_nul_in_string",
        "truncated",
        "integer_past_the_parser_limit",
        "infinity",
        "not_an_object",
        "empty",
    ],
)
async def test_hostile_sign_up_bodies_are_422_and_store_nothing(api: Any, raw_body: bytes) -> None:
    response = await api.http.post(f"{PREFIX}/users/", content=raw_body, headers=JSON)
    assert_validation_error(response)
    assert stored_users(api) == 0


async def test_nul_in_password_is_just_a_character(api: Any) -> None:
    assert (await api.sign_up("nul_user", "abc\x00defgh")).status_code == 201
    assert (await api.log_in("nul_user", "abc\x00defgh")).status_code == 200
    assert (await api.log_in("nul_user", "abc")).status_code == 401


@pytest.mark.parametrize(
    "username",
    [
        "e\u0301ve",  # combining acute accent
        "ab\u202ecd",  # right-to-left override
        "\u05d0\u05d1\u05d2",  # Hebrew letters
        "ali\u200bce",  # zero-width space
        "\uff41\uff4c\uff49",  # fullwidth letters
        "ali\x00ce",
        "ali\x1bce",
        "\U0001f600\U0001f600\U0001f600",
    ],
    ids=[
        "combining",
        "rtl_override",
        "rtl_script",
        "zero_width",
        "fullwidth",
        "nul",
        "esc",
        "emoji",
    ],
)
async def test_usernames_outside_the_ascii_set_are_422(api: Any, username: str) -> None:
    assert_validation_error(await api.sign_up(username, "password1"))
    assert stored_users(api) == 0


@pytest.mark.parametrize(
    "password",
    [
        "pa\u0301ss\u0301word",
        "\u202epassword\u202c",
        "\u05e1\u05d9\u05e1\u05de\u05d4-\u05d8\u05d5\u05d1\u05d4",
        "\U0001f600" * 128,
        "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 2,
        "tab\tnew\nline\r",
    ],
    ids=["combining", "rtl_override", "rtl_script", "128_emoji", "zwj_sequence", "controls"],
)
async def test_any_unicode_password_is_kept_exactly(api: Any, password: str) -> None:
    assert (await api.sign_up("unicode_user", password)).status_code == 201
    assert (await api.log_in("unicode_user", password)).status_code == 200
    assert (await api.log_in("unicode_user", password[:-1] + "x")).status_code == 401


async def test_a_password_of_129_emoji_is_one_too_many(api: Any) -> None:
    assert_validation_error(await api.sign_up("emoji_user", "\U0001f600" * 129))
    assert stored_users(api) == 0


MULTIPART = "multipart/form-data; boundary=xyz"


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"username": "alice", "password": "password1"}'),
        ("application/xml", b"<user><username>alice</username></user>"),
        (FORM["Content-Type"], b"username=alice&password=password1"),
        (
            MULTIPART,
            b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--xyz--\r\n',
        ),
        (None, b'{"username": "alice", "password": "password1"}'),
    ],
    ids=["text", "xml", "form", "multipart", "none"],
)
async def test_sign_up_in_another_content_type_is_422(
    api: Any, content_type: str | None, content: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await api.http.post(f"{PREFIX}/users/", content=content, headers=headers)
    assert_validation_error(response)
    assert stored_users(api) == 0


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        (JSON["Content-Type"], b'{"username": "alice", "password": "password1"}'),
        (MULTIPART, b"--xyz\r\nnot a part at all"),
        ("text/plain", b"username=alice&password=password1"),
    ],
    ids=["json", "broken_multipart", "text"],
)
async def test_login_in_another_content_type_is_422(
    api: Any, content_type: str, content: bytes
) -> None:
    assert (await api.sign_up("alice", "password1")).status_code == 201
    response = await api.http.post(
        f"{PREFIX}/login/", content=content, headers={"Content-Type": content_type}
    )
    assert_validation_error(response)


@pytest.mark.parametrize(
    "raw_form",
    [
        b"username=alice&password=%ED%B2%80abcdefgh",
        b"username=%FF%FE&password=abcdefgh",
        b"username=alice&password=abc%00defgh&password=second",
        b"username=alice&password=" + b"p" * 129,
        b"username=alice&password=x&grant_type=client_credentials",
    ],
    ids=[
        "surrogate_bytes_password",
        "invalid_utf8_username",
        "repeated_field",
        "long_password",
        "wrong_grant",
    ],
)
async def test_hostile_login_forms_are_4xx(api: Any, raw_form: bytes) -> None:
    response = await api.http.post(f"{PREFIX}/login/", content=raw_form, headers=FORM)
    assert 400 <= response.status_code < 500, response.text
    assert "code" in response.json()


async def _ten_megabytes_in_chunks() -> AsyncIterator[bytes]:
    chunk = b"x" * 65_536
    yield b'{"username": "chunky", "password": "'
    for _ in range(TEN_MB // len(chunk)):
        yield chunk
    yield b'"}'


@pytest.mark.parametrize(
    ("path", "headers", "content"),
    [
        ("/users/", JSON, b'{"username": "big", "password": "' + b"x" * TEN_MB + b'"}'),
        ("/users/", JSON, _ten_megabytes_in_chunks),
        ("/login/", FORM, b"username=big&password=" + b"x" * TEN_MB),
        ("/sessions/refresh", JSON, b'{"refresh_token": "' + b"x" * TEN_MB + b'"}'),
        ("/sessions/logout", JSON, b'{"refresh_token": "' + b"x" * TEN_MB + b'"}'),
    ],
    ids=["sign_up", "sign_up_chunked", "login", "refresh", "logout"],
)
async def test_a_ten_megabyte_body_is_413_and_stores_nothing(
    api: Any, path: str, headers: dict[str, str], content: Any
) -> None:
    body = content() if callable(content) else content
    response = await api.http.post(f"{PREFIX}{path}", content=body, headers=headers)
    assert_error(response, 413, "content_too_large")
    assert stored_users(api) == 0


async def test_bodies_up_to_the_configured_cap_are_read(make_api: Callable[..., Any]) -> None:
    api = await make_api(max_body_bytes=2048)
    frame = b'{"username": "capped", "password": ""}'

    async def sign_up_of(length: int) -> httpx.Response:
        password = b"p" * (length - len(frame))
        content = frame[:-2] + password + frame[-2:]
        assert len(content) == length
        return await api.http.post(f"{PREFIX}/users/", content=content, headers=JSON)

    assert_validation_error(await sign_up_of(2048))  # read, and refused for its password
    assert_error(await sign_up_of(2049), 413, "content_too_large")
    assert stored_users(api) == 0


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer " + "a" * 8_000,
        "Bearer " + ".".join(["eyJhbGciOiJIUzI1NiJ9"] * 3) * 100,
        b"Bearer \xff\xfe",
    ],
    ids=["8_kb", "many_segments", "not_ascii"],
)
async def test_long_or_binary_bearer_tokens_are_401(api: Any, authorization: str | bytes) -> None:
    response = await api.http.get(f"{PREFIX}/users/me", headers={"Authorization": authorization})
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "extra",
    [
        {"Authorization": "Bearer " + "a" * 65_536},
        {"Authorization": "Bearer " + "a" * 1_000_000},
        {"X-Padding": "p" * 1_000_000},
        {f"X-Many-{n}": "p" * 100 for n in range(200)},
    ],
    ids=["64_kb_token", "1_mb_token", "1_mb_header", "many_headers"],
)
async def test_headers_past_the_cap_are_431_and_create_nothing(
    api: Any, extra: dict[str, str]
) -> None:
    newcomer = {"username": "header_flood", "password": "a-long-enough-password"}
    response = await api.http.post(f"{PREFIX}/users/", json=newcomer, headers=extra)
    assert_error(response, 431, "request_header_fields_too_large")
    assert stored_users(api) == 0


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "a" * 32, "limit": 1}, 200),
        ({"q": "a" * 33}, 422),
        ({"q": ""}, 422),
        ({"q": "al\x00"}, 422),
        ({"q": "\u00e5l"}, 422),
        ({"q": "a%"}, 422),
        ({"limit": 200, "after_id": 2**63 - 1}, 200),
        ({"limit": 10**30}, 422),
        ({"after_id": "1e3"}, 422),
    ],
    ids=[
        "q_32",
        "q_33",
        "q_empty",
        "q_nul",
        "q_not_ascii",
        "q_wildcard",
        "bounds",
        "huge_limit",
        "float_cursor",
    ],
)
async def test_search_parameters_at_and_past_their_bounds(
    api: Any, params: dict[str, Any], status: int
) -> None:
    headers = await api.bearer_for("searcher")
    response = await api.http.get(f"{PREFIX}/users/", params=params, headers=headers)
    if status == 422:
        assert_validation_error(response)
    else:
        assert response.status_code == status, response.text


@pytest.mark.parametrize("path", ["/sessions/refresh", "/sessions/logout"])
@pytest.mark.parametrize(
    ("content_type", "raw_body"),
    [
        (JSON["Content-Type"], b'{"refresh_token": "\\udc80abc"}'),
        (JSON["Content-Type"], b'{"refresh_token": "abc\\u0000def"}'),
        (JSON["Content-Type"], b'{"refresh_token": "\xed\xb2\x80abc"}'),
        (JSON["Content-Type"], b'{"refresh_token": "not_utf8\xff\xfe"}'),
        (JSON["Content-Type"], b'{"refresh_token": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"),
        (JSON["Content-Type"], b'{"refresh_token": "truncated'),
        (JSON["Content-Type"], b'{"refresh_token": 1e999}'),
        (JSON["Content-Type"], b'{"refresh_token": "a", "refresh_token": ["b"]}'),
        (JSON["Content-Type"], b'"just a string"'),
        (JSON["Content-Type"], b""),
        (FORM["Content-Type"], b"refresh_token=abc"),
        ("text/plain", b'{"refresh_token": "abc"}'),
    ],
    ids=[
        "lone_surrogate",
        "nul",
        "encoded_surrogate",
        "not_utf8",
        "deep",
        "truncated",
        "infinity",
        "repeated_key",
        "not_an_object",
        "empty",
        "form",
        "text",
    ],
)
async def test_hostile_session_bodies_are_422_and_change_nothing(
    api: Any, path: str, content_type: str, raw_body: bytes
) -> None:
    await api.sign_up("holder")
    grant = (await api.log_in("holder")).json()
    before = session_state(api)
    response = await api.http.post(
        f"{PREFIX}{path}", content=raw_body, headers={"Content-Type": content_type}
    )
    assert_validation_error(response)
    assert session_state(api) == before
    refreshed = await api.http.post(
        f"{PREFIX}/sessions/refresh", json={"refresh_token": grant["refresh_token"]}
    )
    assert refreshed.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    ["Bearer " + "a" * 8_000, b"Bearer \xff\xfe", "Bearer", "Bearer  ", "bearer x.y.z"],
    ids=["8_kb", "not_ascii", "no_token", "blank_token", "three_dots"],
)
async def test_logout_all_with_a_hostile_bearer_is_401_and_revokes_nothing(
    api: Any, authorization: str | bytes
) -> None:
    await api.sign_up("holder")
    await api.log_in("holder")
    before = session_state(api)
    response = await api.http.post(
        f"{PREFIX}/sessions/logout-all", headers={"Authorization": authorization}
    )
    assert response.status_code == 401, response.text
    assert response.json()["code"] in {"not_authenticated", "invalid_token"}
    assert session_state(api) == before
