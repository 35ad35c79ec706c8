"""POST /v1/login/: OAuth2 password form in; a new session, its access, refresh and Firebase
tokens out."""

from typing import Annotated

from fastapi import Form

from auth_service.deps import ClientDep, LoginServiceDep, SessionDep
from auth_service.login.schemas import LoginForm
from auth_service.sessions.schemas import TokenResponse
from http_kit import SlashOptionalRouter, error_response

router = SlashOptionalRouter(tags=["login"])


@router.post(
    "/v1/login/",
    responses={
        401: error_response("invalid_credentials", "Incorrect username or password."),
        429: error_response("rate_limited", "Too many failed logins; try later."),
        503: error_response(
            "firebase_unavailable",
            "Could not mint a Firebase token, or the limits cannot be checked right now "
            "(`rate_limits_unavailable`).",
        ),
    },
)
def login(
    form: Annotated[LoginForm, Form()],
    service: LoginServiceDep,
    session: SessionDep,
    client: ClientDep,
) -> TokenResponse:
    """Log in with username and password; starts a session.

    Returns a short-lived bearer token (`sid` names the session), a refresh token for the
    next one (`/v1/sessions/refresh`) and a Firebase custom token.

    After 10 failures for one username or from one address within 15 minutes (settings),
    further attempts get 429 with `Retry-After`, even with the right password. While the
    limits cannot be checked, every attempt gets 503 `rate_limits_unavailable`.
    """
    return service.login(session, form, client)
