"""SQLAlchemy engine and session factory; created in the app's lifespan, never at import."""

import os
import socket
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, exc, text
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


def create_database_engine(url: str, *, pool_size: int, call_timeout: timedelta) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        # Bounded waits: a stuck database yields a 503 from /ready, not hung workers.
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )
    ConnectionWatchdog(engine, call_timeout).start()
    return engine


class ConnectionWatchdog:
    """Ends any use of a database connection that outlives `call_timeout` by shutting its
    socket down, so a request whose query or answer the network lost answers 503 instead of
    waiting for ever.

    libpq has no timeout for an answer: when a link drops what is sent on it (a stateful
    firewall that forgot the connection, a partition that loses the packets' state) while the
    TCP connection itself stays open, a query waits for ever; TCP keepalives and
    `tcp_user_timeout` only notice a peer that stops acknowledging. The server's
    `statement_timeout` cannot help with a query the server never received. A shut-down socket
    makes the waiting call fail at once ("server closed the connection unexpectedly"): the
    pool drops that connection and the request's OperationalError becomes a 503.

    Every checkout also pings the connection (SQLAlchemy's pessimistic disconnect handling, in
    the checkout event rather than `pool_pre_ping`, whose ping would run before the watch
    begins): a connection that died while idle in the pool is replaced before it is used."""

    def __init__(self, engine: Engine, call_timeout: timedelta) -> None:
        self._limit = call_timeout.total_seconds()
        self._lock = threading.Lock()
        self._deadlines: dict[int, tuple[float, Any]] = {}
        event.listen(engine.pool, "checkout", self._checked_out)
        event.listen(engine.pool, "checkin", self._checked_in)
        event.listen(engine.pool, "close", self._checked_in)
        self._stopped = threading.Event()
        event.listen(engine, "engine_disposed", lambda _: self._stopped.set())

    def start(self) -> None:
        threading.Thread(target=self._watch, name="database-watchdog", daemon=True).start()

    def _checked_out(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        with self._lock:
            self._deadlines[id(dbapi_connection)] = (
                time.monotonic() + self._limit, dbapi_connection,
            )  # fmt: skip
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:
            self._checked_in(dbapi_connection, record)
            raise exc.DisconnectionError() from error

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        with self._lock:
            self._deadlines.pop(id(dbapi_connection), None)

    def _watch(self) -> None:
        while not self._stopped.wait(min(0.5, self._limit / 4)):
            now = time.monotonic()
            with self._lock:
                for key, (deadline, connection) in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[key]
                        _shut_down(connection)


def _shut_down(dbapi_connection: Any) -> None:
    try:
        with socket.socket(fileno=os.dup(dbapi_connection.fileno())) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass  # closed meanwhile: nothing left to end


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
