"""/v1/sessions/: refresh (rotation), logout, logout-all."""

from fastapi import status

from auth_service.deps import ClientAddress, ClientDep, SessionDep, SessionServiceDep
from auth_service.sessions.schemas import RefreshTokenBody, TokenResponse
from auth_validator import CurrentUser, InvalidToken
from http_kit import SlashOptionalRouter, error_response

router = SlashOptionalRouter(tags=["sessions"])

MAX_ID = 2**63 - 1
_RATE_LIMITED = error_response("rate_limited", "Too many session requests; try later.")
_LIMITS_UNAVAILABLE = error_response(
    "rate_limits_unavailable", "Rate limits cannot be checked right now; try again later."
)


@router.post(
    "/v1/sessions/refresh",
    responses={
        401: error_response(
            "invalid_refresh_token",
            "The refresh token is unknown, expired or revoked (`invalid_refresh_token`), or was "
            "already used (`refresh_token_reused`: the session is now revoked).",
        ),
        429: _RATE_LIMITED,
        503: error_response(
            "firebase_unavailable",
            "Could not mint a Firebase token, the limits cannot be checked "
            "(`rate_limits_unavailable`) or the database is down; the token still works.",
        ),
    },
)
def refresh(
    body: RefreshTokenBody, service: SessionServiceDep, session: SessionDep, client: ClientDep
) -> TokenResponse:
    """Trade a refresh token for the session's next grant; the token stops working at once.

    Presenting a token again after it was traded revokes the whole session (reuse).
    """
    return service.refresh(session, body.refresh_token, client)


@router.post(
    "/v1/sessions/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={429: _RATE_LIMITED, 503: _LIMITS_UNAVAILABLE},
)
def logout(
    body: RefreshTokenBody, service: SessionServiceDep, session: SessionDep, address: ClientAddress
) -> None:
    """End the session of this refresh token; 204 also for an unknown or revoked one."""
    service.logout(session, body.refresh_token, address)


@router.post(
    "/v1/sessions/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        401: error_response("not_authenticated", "Not authenticated."),
        429: _RATE_LIMITED,
        503: _LIMITS_UNAVAILABLE,
    },
)
def logout_all(
    caller: CurrentUser, service: SessionServiceDep, session: SessionDep, address: ClientAddress
) -> None:
    """End every session of the caller. Their access tokens work until they expire."""
    service.logout_all(session, _user_id(caller.user_id), address)


def _user_id(user_id: str) -> int:
    # A valid signature on a non-numeric id can only come from a misconfigured issuer.
    if not (user_id.isascii() and user_id.isdigit()) or int(user_id) > MAX_ID:
        raise InvalidToken()
    return int(user_id)
