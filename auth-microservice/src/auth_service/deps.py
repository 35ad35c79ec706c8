"""FastAPI dependencies: what the lifespan built (`Resources`), the request's database
session (its unit of work), and the caller's address.

Getters are `async def` although they never await: FastAPI runs plain `def` dependencies in
a worker thread, a hop that costs more than the lookup.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from auth_service.firebase_tokens import FirebaseTokenMinter
from auth_service.login.service import LoginService
from auth_service.metrics import Metrics
from auth_service.users.service import UserService
from http_kit import ReadinessProbe, resources_dependency


@dataclass(frozen=True)
class Resources:
    """What the lifespan creates and closes; installed as the app's resources."""

    engine: Engine
    sessions: sessionmaker[Session]
    firebase: FirebaseTokenMinter
    metrics: Metrics
    users: UserService
    login: LoginService
    readiness_probes: Mapping[str, ReadinessProbe]


get_resources = resources_dependency(Resources)
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


async def get_user_service(resources: ResourcesDep) -> UserService:
    return resources.users


async def get_login_service(resources: ResourcesDep) -> LoginService:
    return resources.login


async def get_metrics(resources: ResourcesDep) -> Metrics:
    return resources.metrics


async def get_readiness_probes(resources: ResourcesDep) -> Mapping[str, ReadinessProbe]:
    return resources.readiness_probes


async def client_address(request: Request) -> str:
    """The peer, or the X-Forwarded-For client when uvicorn trusts the peer as a proxy."""
    return request.client.host if request.client else "unknown"


# scope="function": commit before the response is sent, so a failed commit cannot follow a 201.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
LoginServiceDep = Annotated[LoginService, Depends(get_login_service)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
ReadinessProbesDep = Annotated[Mapping[str, ReadinessProbe], Depends(get_readiness_probes)]
ClientAddress = Annotated[str, Depends(client_address)]
