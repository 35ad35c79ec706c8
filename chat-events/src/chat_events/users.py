"""How a user is named on the wire: the auth service's numeric id, as text."""

from typing import Annotated

from pydantic import BeforeValidator, Field


def _id_as_text(value: object) -> object:
    # Clients of the original API send ids as numbers or strings; both mean the same user.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


UserId = Annotated[
    str,
    BeforeValidator(_id_as_text),
    # A Postgres bigint identity: positive, at most 19 digits.
    Field(pattern=r"^[0-9]{1,19}$", description="A user id of the auth service."),
]
"""A user id in a request: digits only, and a JSON number is taken as its text."""
