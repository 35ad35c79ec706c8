"""Sessions through the HTTP API, against the real Postgres: rotation, reuse detection,
concurrent refresh, logout, logout-all, expiry, and the table that holds hashes only."""

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import httpx
import pytest
from jose import jwt
from sqlalchemy import text

from auth_validator import JwtSettings, Principal, TokenVerifier
from devstack.testing import free_port

PREFIX = "/auth/api/v1"
REFRESH = f"{PREFIX}/sessions/refresh"
LOGOUT = f"{PREFIX}/sessions/logout"
LOGOUT_ALL = f"{PREFIX}/sessions/logout-all"
TEST_SECRET = "auth-service-test-secret-0123456789abcdef"


async def logged_in(api: Any, username: str) -> dict[str, Any]:
    """Signs `username` up (once) and logs in: a new session's grant."""
    await api.sign_up(username)
    response = await api.log_in(username)
    assert response.status_code == 200, response.text
    grant: dict[str, Any] = response.json()
    return grant


async def refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(REFRESH, json={"refresh_token": token})


def rows(api: Any, sql: str, **params: Any) -> list[Any]:
    with api.app.state.resources.sessions() as session:
        return list(session.execute(text(sql), params).all())


def session_row(api: Any, session_id: str) -> Any:
    (row,) = rows(
        api,
        "SELECT revoked_at, revoked_reason, user_agent, address FROM sessions WHERE id = :id",
        id=session_id,
    )
    return row


def assert_refused(response: httpx.Response, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (401, code), response.text
    assert isinstance(response.json()["detail"], str)


async def test_refresh_gives_a_new_grant_of_the_same_session(api: Any) -> None:
    first = await logged_in(api, "rita")
    response = await refresh(api.http, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert set(second) == set(first)
    assert second["session_id"] == first["session_id"]
    assert (second["id"], second["username"]) == (first["id"], "rita")
    assert second["refresh_token"] != first["refresh_token"]
    assert second["firebase_token"]
    assert (second["expires_in"], second["refresh_expires_in"]) == (15 * 60, 30 * 24 * 3600)
    claims = jwt.get_unverified_claims(second["access_token"])
    assert claims["sid"] == first["session_id"]
    verifier = TokenVerifier(JwtSettings(app_env="test", secret=TEST_SECRET))
    assert verifier.verify(second["access_token"]) == Principal(first["id"], "rita")


async def test_a_rotated_token_is_refused_and_revokes_the_session(api: Any) -> None:
    first = await logged_in(api, "sam")
    second = (await refresh(api.http, first["refresh_token"])).json()
    assert_refused(await refresh(api.http, first["refresh_token"]), "refresh_token_reused")
    # The newest token of the family dies with it: either copy may be the thief's.
    assert_refused(await refresh(api.http, second["refresh_token"]), "invalid_refresh_token")
    revoked = session_row(api, first["session_id"])
    assert revoked.revoked_at is not None
    assert revoked.revoked_reason == "reuse"


async def test_reuse_of_any_older_token_revokes_the_newest(api: Any) -> None:
    tokens = [(await logged_in(api, "tina"))["refresh_token"]]
    for _ in range(3):
        response = await refresh(api.http, tokens[-1])
        assert response.status_code == 200, response.text
        tokens.append(response.json()["refresh_token"])
    assert_refused(await refresh(api.http, tokens[0]), "refresh_token_reused")
    assert_refused(await refresh(api.http, tokens[-1]), "invalid_refresh_token")
    # And presenting it again still says what it is, without reviving anything.
    assert_refused(await refresh(api.http, tokens[1]), "refresh_token_reused")
    assert_refused(await refresh(api.http, tokens[-1]), "invalid_refresh_token")


async def test_reuse_leaves_the_users_other_sessions_alone(api: Any) -> None:
    phone, laptop = await logged_in(api, "uma"), await logged_in(api, "uma")
    await refresh(api.http, phone["refresh_token"])
    assert_refused(await refresh(api.http, phone["refresh_token"]), "refresh_token_reused")
    assert (await refresh(api.http, laptop["refresh_token"])).status_code == 200


async def test_concurrent_refreshes_with_one_token_let_exactly_one_through(
    start_server: Any,
) -> None:
    """Real requests, at the same moment, to a running server (worker threads, a connection
    each): the conditional UPDATE lets one claim the token; the others find it rotated."""
    server = start_server(AUTH_DATABASE_POOL_SIZE="20")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        body = {"username": "racer", "password": "correct horse battery"}
        assert (await http.post(f"{PREFIX}/users/", json=body)).status_code == 201
        for _ in range(5):
            login = await http.post(f"{PREFIX}/login/", data=body)
            token = login.json()["refresh_token"]
            responses = await asyncio.gather(*(refresh(http, token) for _ in range(8)))
            statuses = sorted(response.status_code for response in responses)
            assert statuses == [200] + [401] * 7, [r.text for r in responses]
            codes = {r.json()["code"] for r in responses if r.status_code == 401}
            assert codes == {"refresh_token_reused"}
            # The winner's new token went down with the session: two tabs must not share one.
            winner = next(r for r in responses if r.status_code == 200).json()
            assert_refused(await refresh(http, winner["refresh_token"]), "invalid_refresh_token")


async def test_logout_revokes_that_session_only_and_is_idempotent(api: Any) -> None:
    here, there = await logged_in(api, "victor"), await logged_in(api, "victor")
    response = await api.http.post(LOGOUT, json={"refresh_token": here["refresh_token"]})
    assert (response.status_code, response.content) == (204, b"")
    assert_refused(await refresh(api.http, here["refresh_token"]), "invalid_refresh_token")
    assert session_row(api, here["session_id"]).revoked_reason == "logout"
    for token in (here["refresh_token"], "never-issued-token"):
        again = await api.http.post(LOGOUT, json={"refresh_token": token})
        assert again.status_code == 204
    assert session_row(api, here["session_id"]).revoked_reason == "logout"
    assert (await refresh(api.http, there["refresh_token"])).status_code == 200


async def test_logout_with_an_older_token_of_the_family_ends_the_session(api: Any) -> None:
    first = await logged_in(api, "wendy")
    second = (await refresh(api.http, first["refresh_token"])).json()
    assert (
        await api.http.post(LOGOUT, json={"refresh_token": first["refresh_token"]})
    ).status_code == 204
    assert_refused(await refresh(api.http, second["refresh_token"]), "invalid_refresh_token")


async def test_logout_all_revokes_every_session_of_the_caller_only(api: Any) -> None:
    phone, laptop = await logged_in(api, "xena"), await logged_in(api, "xena")
    other = await logged_in(api, "yusuf")
    bearer = {"Authorization": f"Bearer {phone['access_token']}"}
    response = await api.http.post(LOGOUT_ALL, headers=bearer)
    assert (response.status_code, response.content) == (204, b"")
    for grant in (phone, laptop):
        assert_refused(await refresh(api.http, grant["refresh_token"]), "invalid_refresh_token")
        assert session_row(api, grant["session_id"]).revoked_reason == "logout_all"
    assert (await refresh(api.http, other["refresh_token"])).status_code == 200
    # Access tokens are stateless: they work until they expire (15 minutes at most).
    assert (await api.http.get(f"{PREFIX}/users/me", headers=bearer)).status_code == 200
    assert (await api.http.post(LOGOUT_ALL, headers=bearer)).status_code == 204


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}],
    ids=["none", "garbage", "basic"],
)
async def test_logout_all_needs_a_valid_access_token(api: Any, headers: dict[str, str]) -> None:
    grant = await logged_in(api, "zack")
    response = await api.http.post(LOGOUT_ALL, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] in {"not_authenticated", "invalid_token"}
    assert (await refresh(api.http, grant["refresh_token"])).status_code == 200


async def test_an_expired_refresh_token_is_refused(make_api: Any) -> None:
    api = await make_api(
        access_token_lifetime=timedelta(seconds=1), refresh_token_lifetime=timedelta(seconds=2)
    )
    grant = await logged_in(api, "old_timer")
    assert grant["refresh_expires_in"] == 2
    await asyncio.sleep(2.2)  # the lifetime passing is what this test is about
    assert_refused(await refresh(api.http, grant["refresh_token"]), "invalid_refresh_token")
    assert session_row(api, grant["session_id"]).revoked_at is None  # expired, not reused


async def test_each_refresh_token_lives_the_configured_lifetime(api: Any) -> None:
    grant = await logged_in(api, "lifer")
    second = (await refresh(api.http, grant["refresh_token"])).json()
    digest = hashlib.sha256(second["refresh_token"].encode()).digest()
    (row,) = rows(
        api,
        "SELECT expires_at - issued_at AS lifetime FROM refresh_tokens WHERE token_hash = :h",
        h=digest,
    )
    assert row.lifetime == timedelta(days=30)


async def test_the_tables_hold_hashes_never_tokens(
    api: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = await logged_in(api, "hasher")
    second = (await refresh(api.http, first["refresh_token"])).json()
    tokens = [first["refresh_token"], second["refresh_token"]]
    stored = rows(api, "SELECT token_hash FROM refresh_tokens")
    assert sorted(bytes(row.token_hash) for row in stored) == sorted(
        hashlib.sha256(token.encode()).digest() for token in tokens
    )
    dump = "\n".join(
        str(row[0])
        for table in ("sessions", "refresh_tokens", "users")
        for row in rows(api, f"SELECT t::text FROM {table} t")
    )
    printed = capsys.readouterr()
    for token in tokens:
        raw = token.encode()
        for form in (token, raw.hex(), token.upper()):
            assert form not in dump
            assert form not in printed.out + printed.err


async def test_login_and_refresh_keep_where_the_session_is_used_from(api: Any) -> None:
    await api.sign_up("traveller")
    form = {"username": "traveller", "password": "correct horse battery"}
    async with api.from_address("10.1.2.3") as office:
        grant = (
            await office.post(f"{PREFIX}/login/", data=form, headers={"User-Agent": "Desk/1.0"})
        ).json()
    assert tuple(session_row(api, grant["session_id"])[2:]) == ("Desk/1.0", "10.1.2.3")
    async with api.from_address("10.9.9.9") as home:
        long_agent = "Phone/2.0 \x7f" + "x" * 1000
        await home.post(
            REFRESH,
            json={"refresh_token": grant["refresh_token"]},
            headers={"User-Agent": long_agent},
        )
    agent, address = session_row(api, grant["session_id"])[2:]
    assert (agent, address) == (("Phone/2.0 " + "x" * 1000)[:256], "10.9.9.9")


async def test_expired_tokens_are_forgotten_at_the_next_refresh(make_api: Any) -> None:
    api = await make_api(refresh_token_lifetime=timedelta(hours=1))
    grant = await logged_in(api, "tidy")
    token = grant["refresh_token"]
    for _ in range(3):
        token = (await refresh(api.http, token)).json()["refresh_token"]
    sql = "SELECT count(*) FROM refresh_tokens WHERE session_id = :id"
    assert rows(api, sql, id=grant["session_id"])[0][0] == 4
    with api.app.state.resources.sessions.begin() as session:
        session.execute(
            text("UPDATE refresh_tokens SET expires_at = now() WHERE rotated_at IS NOT NULL")
        )
    assert (await refresh(api.http, token)).status_code == 200
    assert rows(api, sql, id=grant["session_id"])[0][0] == 2  # the one just used, and its successor


MALFORMED = [
    ("missing", {}),
    ("null", {"refresh_token": None}),
    ("number", {"refresh_token": 12345}),
    ("empty", {"refresh_token": ""}),
    ("too_long", {"refresh_token": "a" * 129}),
    ("not_base64url", {"refresh_token": "abc+/="}),
    ("unicode", {"refresh_token": "t\u00f6ken"}),
    ("extra_field", {"refresh_token": "abc", "session_id": "x"}),
    ("list", [{"refresh_token": "abc"}]),
]


@pytest.mark.parametrize("path", [REFRESH, LOGOUT])
@pytest.mark.parametrize("body", [b for _, b in MALFORMED], ids=[n for n, _ in MALFORMED])
async def test_malformed_bodies_are_422_and_change_nothing(api: Any, path: str, body: Any) -> None:
    grant = await logged_in(api, "careful")
    before = rows(api, "SELECT token_hash, rotated_at FROM refresh_tokens ORDER BY 1")
    response = await api.http.post(path, json=body)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert rows(api, "SELECT token_hash, rotated_at FROM refresh_tokens ORDER BY 1") == before
    assert session_row(api, grant["session_id"]).revoked_at is None
    assert (await refresh(api.http, grant["refresh_token"])).status_code == 200


async def test_session_requests_are_limited_per_address(make_api: Any) -> None:
    api = await make_api(session_requests_per_address=3)
    grant = await logged_in(api, "limited")
    statuses = [(await refresh(api.http, f"unknown{index}")).status_code for index in range(3)]
    assert statuses == [401] * 3
    for blocked in (
        await refresh(api.http, grant["refresh_token"]),
        await api.http.post(LOGOUT, json={"refresh_token": grant["refresh_token"]}),
    ):
        assert (blocked.status_code, blocked.json()["code"]) == (429, "rate_limited")
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    # The refused requests changed nothing: the token was neither rotated nor revoked.
    async with api.from_address("10.0.0.44") as elsewhere:
        assert (await refresh(elsewhere, grant["refresh_token"])).status_code == 200


async def test_refresh_while_postgres_is_unreachable_is_503(make_api: Any) -> None:
    nowhere = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/auth"
    api = await make_api(database_url=nowhere)
    response = await refresh(api.http, "any-token")
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0


async def test_a_user_has_only_recent_sessions_kept(make_api: Any) -> None:
    api = await make_api(refresh_token_lifetime=timedelta(hours=1))
    old = await logged_in(api, "returning")
    with api.app.state.resources.sessions.begin() as session:
        session.execute(
            text("UPDATE sessions SET last_used_at = now() - interval '2 hours' WHERE id = :id"),
            {"id": old["session_id"]},
        )
    new = await logged_in(api, "returning")
    ids = {str(row[0]) for row in rows(api, "SELECT id FROM sessions")}
    assert ids == {new["session_id"]}


async def test_a_refresh_that_fails_to_mint_firebase_rotates_nothing(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant = await logged_in(api, "unlucky")
    minter = api.app.state.resources.firebase

    def unavailable(user_id: str) -> str:  # Firebase is the system's edge: stand in for it
        raise ConnectionError("firebase is away")

    monkeypatch.setattr(minter, "mint", unavailable)
    failed = await refresh(api.http, grant["refresh_token"])
    assert (failed.status_code, failed.json()["code"]) == (503, "firebase_unavailable")
    monkeypatch.undo()
    # The same token works on the retry: the 503 was no use of it.
    assert (await refresh(api.http, grant["refresh_token"])).status_code == 200
