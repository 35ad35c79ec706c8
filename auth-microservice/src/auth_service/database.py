"""SQLAlchemy engine and session factory; created in the app's lifespan, never at import."""

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from auth_validator import ServiceUnavailable, render_error

# Stable constraint names, so Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_database_engine(url: str, *, pool_size: int) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # Bounded waits: a stuck database yields a 503 from /ready, not hung workers.
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def database_is_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


class PostgresUnavailable(ServiceUnavailable):
    code = "postgres_unavailable"
    detail = "postgres is not reachable"

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": "5"})


def install_database_error_handler(app: FastAPI) -> None:
    """A lost or refused database connection is a 503 the client may retry, not a 500."""

    async def render(request: Request, exc: OperationalError) -> Response:
        return render_error(PostgresUnavailable())

    app.add_exception_handler(OperationalError, render)  # type: ignore[arg-type]
