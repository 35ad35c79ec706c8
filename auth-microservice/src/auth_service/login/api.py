"""POST /v1/login/: OAuth2 password form in, access token and Firebase token out."""

from typing import Annotated

from fastapi import Form

from auth_service.deps import ClientAddress, LoginServiceDep, SessionDep
from auth_service.login.schemas import LoginForm, TokenResponse
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
    address: ClientAddress,
) -> TokenResponse:
    """Log in with username and password; returns a bearer token and a Firebase custom token.

    After 10 failures for one username or from one address within 15 minutes (settings),
    further attempts get 429 with `Retry-After`, even with the right password. While the
    limits cannot be checked, every attempt gets 503 `rate_limits_unavailable`.
    """
    return service.login(session, form, address)
