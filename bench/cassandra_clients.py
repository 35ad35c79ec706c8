"""The drivers under test behind one small interface: open, run DDL, prepare, run a prepared
statement with its parameters and get its (first page of) rows as dicts, close.

Each driver is imported when it is opened, so that one environment needs only its own.
"""

import asyncio
from collections.abc import Awaitable
from importlib import metadata
from typing import Any, Protocol

TIMEOUT_S = 30.0

Row = dict[str, Any]
Params = tuple[Any, ...]


class Driver(Protocol):
    def __init__(self, host: str, port: int, protocol: int) -> None: ...
    async def open(self) -> None: ...
    async def ddl(self, query: str) -> None: ...
    async def prepare(self, query: str) -> Any: ...
    def run(self, prepared: Any, params: Params) -> Awaitable[list[Row]]: ...
    def describe(self) -> tuple[str, str]:
        """The driver's version and what does its I/O."""

    async def close(self) -> None: ...


class PythonDriver:
    """cassandra-driver, or scylla-driver in its place, set up and called as the service does."""

    def __init__(self, host: str, port: int, protocol: int) -> None:
        self._host, self._port, self._protocol = host, port, protocol
        self._cluster: Any = None
        self._session: Any = None

    async def open(self) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import RoundRobinPolicy
        from cassandra.query import dict_factory

        profile = ExecutionProfile(
            load_balancing_policy=RoundRobinPolicy(),
            consistency_level=ConsistencyLevel.ONE,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=TIMEOUT_S,
            row_factory=dict_factory,
        )
        self._cluster = Cluster(
            [self._host],
            port=self._port,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            protocol_version=self._protocol,
            connect_timeout=TIMEOUT_S,
        )
        self._session = await asyncio.to_thread(self._cluster.connect)

    async def ddl(self, query: str) -> None:
        await asyncio.to_thread(self._session.execute, query, timeout=120)

    async def prepare(self, query: str) -> Any:
        from cassandra import ConsistencyLevel

        statement = await asyncio.to_thread(self._session.prepare, query)
        statement.consistency_level = ConsistencyLevel.ONE
        return statement

    def run(self, prepared: Any, params: Params) -> Awaitable[list[Row]]:
        # The chat service's bridge before decision 0005: the driver calls back on its I/O thread.
        # Written again here rather than imported: scylla-driver runs in a throw-away
        # environment (`uv run --isolated --no-project`, see cassandra_drivers.py) that holds
        # no workspace package, since chat-service would pull cassandra-driver in beside it
        # (both are the `cassandra` package). It is the bare bridge, without the service's
        # mapping of unavailable hosts to StoreUnavailable, which a benchmark does not need.
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[list[Row]] = loop.create_future()

        def on_rows(rows: list[Row]) -> None:
            loop.call_soon_threadsafe(_settle, waiter, list(rows or ()), None)

        def on_error(error: BaseException) -> None:
            loop.call_soon_threadsafe(_settle, waiter, None, error)

        self._session.execute_async(prepared, params).add_callbacks(on_rows, on_error)
        return waiter

    def describe(self) -> tuple[str, str]:
        import cassandra

        return cassandra.__version__, self._cluster.connection_class.__name__

    async def close(self) -> None:
        await asyncio.to_thread(self._cluster.shutdown)


def _settle(waiter: "asyncio.Future[list[Row]]", rows: list[Row] | None, error: Any) -> None:
    if waiter.done():
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(rows or [])


class AcsyllaDriver:
    """acsylla: a statement is bound from the prepared one and awaited directly. Its protocol
    must be 4 or lower with Cassandra 5: the C++ driver's v5 is a pre-release that Cassandra
    refuses. uuid and timeuuid columns come back as text."""

    def __init__(self, host: str, port: int, protocol: int) -> None:
        self._host, self._port, self._protocol = host, port, protocol
        self._cluster: Any = None
        self._session: Any = None

    async def open(self) -> None:
        import acsylla

        # The cluster captures the running loop: it must be created inside it.
        self._cluster = acsylla.create_cluster(
            [self._host],
            port=self._port,
            protocol_version=self._protocol,
            consistency=acsylla.Consistency.ONE,
            serial_consistency=acsylla.Consistency.LOCAL_SERIAL,  # its default is ANY
            connect_timeout=TIMEOUT_S,
            request_timeout=TIMEOUT_S,
            # Even at "error" it warns, once a connection, that Cassandra is not sharded;
            # failures still come back as exceptions from `execute`.
            log_level="disabled",
        )
        self._session = await self._cluster.create_session()

    async def ddl(self, query: str) -> None:
        import acsylla

        await self._session.execute(acsylla.create_statement(query, timeout=120))

    async def prepare(self, query: str) -> Any:
        return await self._session.create_prepared(query)

    async def run(self, prepared: Any, params: Params) -> list[Row]:
        statement = prepared.bind()
        statement.bind_list(list(params))  # a list: it refuses tuples
        result = await self._session.execute(statement)
        return [row.as_dict() for row in result]

    def describe(self) -> tuple[str, str]:
        return metadata.version("acsylla"), "C++ driver (libuv thread)"

    async def close(self) -> None:
        await self._session.close()
