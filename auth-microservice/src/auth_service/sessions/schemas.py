"""Request and response bodies for sessions (the login answers with `TokenResponse` too)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# What `secrets.token_urlsafe` makes, with room to spare; anything else is a malformed body.
RefreshTokenText = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
]


class RefreshTokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: RefreshTokenText = Field(
        description="The refresh token of the last login or refresh answer."
    )


class TokenResponse(BaseModel):
    """The answer of a login and of a refresh: a new grant for the session."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the access token expires.")
    id: str
    username: str
    firebase_token: str
    refresh_token: str = Field(
        description="Opaque; trade it once at /v1/sessions/refresh for the next grant."
    )
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires.")
    session_id: str
