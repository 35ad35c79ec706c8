"""FastAPI dependencies: what the lifespan built (`Resources`), the request's database
session (its unit of work), and the caller's address.

Getters are `async def` although they never await: FastAPI runs plain `def` dependencies in
a worker thread, a hop that costs more than the lookup. `http_kit.resource` makes each field
getter so.
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
from auth_service.sessions.models import USER_AGENT_MAX_LENGTH
from auth_service.sessions.service import Client, SessionService
from auth_service.users.service import UserService
from http_kit import ReadinessProbe, resource


@dataclass(frozen=True)
class Resources:
    """What the lifespan creates and closes; installed as the app's resources."""

    engine: Engine
    sessions: sessionmaker[Session]
    firebase: FirebaseTokenMinter
    metrics: Metrics
    users: UserService
    login: LoginService
    sessions_service: SessionService
    readiness_probes: Mapping[str, ReadinessProbe]


def get_session(
    sessions: Annotated[sessionmaker[Session], Depends(resource(Resources, "sessions"))],
) -> Iterator[Session]:
    """One transaction per request: committed if the endpoint returns, rolled back if it raises."""
    with sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


async def client_address(request: Request) -> str:
    """The peer, or the X-Forwarded-For client when uvicorn trusts the peer as a proxy."""
    return request.client.host if request.client else "unknown"


async def client(request: Request) -> Client:
    """The caller's address and, in printable ASCII and cut to size, their user agent."""
    agent = request.headers.get("user-agent")
    if agent is not None:
        agent = "".join(c for c in agent if " " <= c <= "~")[:USER_AGENT_MAX_LENGTH] or None
    return Client(address=await client_address(request), user_agent=agent)


# scope="function": commit before the response is sent, so a failed commit cannot follow a 201.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
UserServiceDep = Annotated[UserService, Depends(resource(Resources, "users"))]
LoginServiceDep = Annotated[LoginService, Depends(resource(Resources, "login"))]
SessionServiceDep = Annotated[SessionService, Depends(resource(Resources, "sessions_service"))]
ClientAddress = Annotated[str, Depends(client_address)]
ClientDep = Annotated[Client, Depends(client)]
