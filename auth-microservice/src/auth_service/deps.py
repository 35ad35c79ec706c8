"""Request-scoped dependencies: the database session (unit of work), services, caller address."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.login.service import LoginService
from auth_service.metrics import Metrics
from auth_service.passwords import PasswordHasher
from auth_service.rate_limits import RateLimits
from auth_service.settings import AuthSettings
from auth_service.users.repository import UserRepository
from auth_service.users.service import UserService


@dataclass(frozen=True)
class Resources:
    """What the lifespan creates and closes; stored as `app.state.resources`."""

    settings: AuthSettings
    engine: Engine
    sessions: sessionmaker[Session]
    hasher: PasswordHasher
    rate_limits: RateLimits
    firebase: FirebaseTokenMinter
    metrics: Metrics


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


def get_session(resources: ResourcesDep) -> Iterator[Session]:
    """One transaction per request: committed if the endpoint returns, rolled back if it raises."""
    with resources.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# scope="function": commit before the response is sent, so a failed commit cannot follow a 201.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_user_service(session: SessionDep, resources: ResourcesDep) -> UserService:
    return UserService(UserRepository(session), resources.hasher, resources.metrics)


def get_login_service(session: SessionDep, resources: ResourcesDep) -> LoginService:
    return LoginService(
        UserRepository(session),
        resources.hasher,
        resources.rate_limits,
        resources.firebase,
        resources.settings,
        resources.metrics,
    )


def client_address(request: Request) -> str:
    """The peer, or the X-Forwarded-For client when uvicorn trusts the peer as a proxy."""
    return request.client.host if request.client else "unknown"


UserServiceDep = Annotated[UserService, Depends(get_user_service)]
LoginServiceDep = Annotated[LoginService, Depends(get_login_service)]
ClientAddress = Annotated[str, Depends(client_address)]
