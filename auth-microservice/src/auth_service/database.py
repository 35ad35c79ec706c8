"""SQLAlchemy engine and session factory; created in the app's lifespan, never at import."""

from sqlalchemy import Engine, MetaData, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from http_kit import Dependency

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


POSTGRES = Dependency("postgres", "postgres is not reachable")
# A lost Postgres is usually back within seconds (a restart, a failover).
POSTGRES_RETRY_AFTER_SECONDS = 5


class PostgresProbe:
    """Readiness: Postgres answers a query."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def check(self) -> None:
        if not await run_in_threadpool(database_is_reachable, self._engine):
            raise POSTGRES.unavailable(POSTGRES_RETRY_AFTER_SECONDS)
