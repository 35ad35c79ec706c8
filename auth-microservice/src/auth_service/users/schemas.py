"""Request and response bodies for users."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"

Username = Annotated[str, StringConstraints(min_length=3, max_length=32, pattern=USERNAME_PATTERN)]


def unicode_text(value: str) -> str:
    """Refuses lone surrogates (`"\\udc80"` in JSON): not text, and unhashable as UTF-8."""
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


Password = Annotated[
    str, StringConstraints(min_length=8, max_length=128), AfterValidator(unicode_text)
]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username = Field(description="3 to 32 of A-Z a-z 0-9 _ . - ; unique ignoring case.")
    password: Password = Field(description="8 to 128 characters.")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
