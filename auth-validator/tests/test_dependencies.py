"""The FastAPI side: the current-principal dependency and its 401s."""

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from auth_validator import (
    CurrentUser,
    JwtSettings,
    TokenVerifier,
    install_token_verifier,
    issue_access_token,
)
from http_kit import install_error_handlers

SETTINGS = JwtSettings(app_env="test", secret="t" * 40)


def build_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_token_verifier(app, TokenVerifier(SETTINGS))

    @app.get("/me")
    def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id, "username": user.username}

    return app


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_yields_the_principal(client: httpx.AsyncClient) -> None:
    token = issue_access_token(SETTINGS, user_id="5", username="eve", lifetime=timedelta(minutes=5))
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"user_id": "5", "username": "eve"}


async def test_missing_token_is_401_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "Not authenticated.", "code": "not_authenticated"}


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not.a.token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c.d", "token"],
)
async def test_bad_authorization_is_401(client: httpx.AsyncClient, authorization: str) -> None:
    response = await client.get("/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] in {"not_authenticated", "invalid_token"}


async def test_expired_token_is_401_token_expired(client: httpx.AsyncClient) -> None:
    token = issue_access_token(
        SETTINGS, user_id="5", username="eve", lifetime=timedelta(seconds=-60)
    )
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {"detail": "Token has expired.", "code": "token_expired"}


async def test_token_for_another_secret_is_401(client: httpx.AsyncClient) -> None:
    other = JwtSettings(app_env="test", secret="o" * 40)
    token = issue_access_token(other, user_id="5", username="eve", lifetime=timedelta(minutes=5))
    response = await client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
