"""The OAuth2 password form (the login answers with `sessions.schemas.TokenResponse`)."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, StringConstraints

from auth_service.users.schemas import Username, unicode_text

LoginPassword = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(unicode_text)
]


class LoginForm(BaseModel):
    """OAuth2 password grant (RFC 6749 §4.3), as sent by Swagger UI and OAuth2 clients."""

    username: Username
    password: LoginPassword
    grant_type: Literal["password"] | None = None
    scope: Annotated[str, StringConstraints(max_length=1000)] = ""
