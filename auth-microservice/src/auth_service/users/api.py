"""/v1/users/: sign-up, search, lookup, and the caller's own record."""

from typing import Annotated

from fastapi import Path, Query, status

from auth_service.deps import ClientAddress, SessionDep, UserServiceDep
from auth_service.users.schemas import USERNAME_PATTERN, UserCreate, UserPublic
from auth_validator import CurrentUser, InvalidToken
from http_kit import SlashOptionalRouter, error_response

router = SlashOptionalRouter(tags=["users"])

MAX_ID = 2**63 - 1  # BIGINT: larger ids cannot exist, and must be a 422 rather than a 500
_UNAUTHENTICATED = error_response("not_authenticated", "Not authenticated.")


@router.post(
    "/v1/users/",
    status_code=status.HTTP_201_CREATED,
    responses={
        409: error_response("username_taken", "This username is already taken."),
        429: error_response("rate_limited", "Too many sign-ups from this address; try later."),
        503: error_response(
            "rate_limits_unavailable", "Rate limits cannot be checked right now; try again later."
        ),
    },
)
def sign_up(
    new_user: UserCreate, service: UserServiceDep, session: SessionDep, address: ClientAddress
) -> UserPublic:
    """Create a user. Usernames are unique ignoring letter case."""
    return UserPublic.model_validate(service.register(session, new_user, address))


@router.get("/v1/users/", responses={401: _UNAUTHENTICATED})
def list_users(
    caller: CurrentUser,
    service: UserServiceDep,
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=32, pattern=USERNAME_PATTERN, description="Name prefix"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Return users with a larger id")
    ] = None,
) -> list[UserPublic]:
    """Users ordered by id; page with `after_id` = the last id of the previous page."""
    users = service.search(session, prefix=q, after_id=after_id, limit=limit)
    return [UserPublic.model_validate(user) for user in users]


@router.get("/v1/users/me", responses={401: _UNAUTHENTICATED})
def read_me(caller: CurrentUser, service: UserServiceDep, session: SessionDep) -> UserPublic:
    """The caller's own record."""
    return UserPublic.model_validate(service.get(session, _own_id(caller.user_id)))


@router.get(
    "/v1/users/{user_id}",
    responses={
        401: _UNAUTHENTICATED,
        404: error_response("user_not_found", "No user with this id."),
    },
)
def read_user(
    caller: CurrentUser,
    service: UserServiceDep,
    session: SessionDep,
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> UserPublic:
    """One user by id."""
    return UserPublic.model_validate(service.get(session, user_id))


def _own_id(user_id: str) -> int:
    # A valid signature on a non-numeric id can only come from a misconfigured issuer.
    if not (user_id.isascii() and user_id.isdigit()) or int(user_id) > MAX_ID:
        raise InvalidToken()
    return int(user_id)
