"""The Cassandra connection: cluster set-up and an asyncio bridge for the driver's futures."""

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, ClassVar, TypeAlias

from cassandra import ConsistencyLevel, OperationTimedOut, RequestExecutionException
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
    Session,
)
from cassandra.policies import ExponentialReconnectionPolicy, RoundRobinPolicy
from cassandra.query import (
    BatchStatement,
    BatchType,
    BoundStatement,
    PreparedStatement,
    dict_factory,
)

from chat_service.settings import ChatSettings, Consistency

Row = dict[str, Any]
Write: TypeAlias = BoundStatement
"""A write ready to run, which a repository hands out so that another can run it together
with its own in one batch (one request to Cassandra instead of one each)."""

# 100-ns intervals between the TimeUUID epoch (1582-10-15) and the Unix epoch.
_GREGORIAN_TO_UNIX = 0x01B21DD213814000

# The write timestamp of a deletion: larger than that of any edit, so that no edit, whatever
# its revision or arrival order, brings a deleted body back. CQL accepts any bigint up to
# 2**63 - 1, but Cassandra 5's storage format (CASSANDRA-18648) writes the time of a deletion
# in 7 bytes and refuses to serialise anything larger except Long.MAX_VALUE, which it keeps as
# a sentinel; 2**56 - 1 (the year 4253) is the largest that is safe for every kind of
# tombstone and still far beyond the microseconds of any revision.
DELETION_TIMESTAMP = (1 << 56) - 1


def write_timestamp(time: uuid.UUID) -> int:
    """A TimeUUID's microseconds since the Unix epoch: the Cassandra write timestamp of what
    happened at that time, so that the later of two writes wins whatever their arrival order."""
    return (time.time - _GREGORIAN_TO_UNIX) // 10


# Failures of availability (retry later), as opposed to invalid queries (our bugs).
_UNAVAILABLE = (NoHostAvailable, OperationTimedOut, RequestExecutionException)


class StoreUnavailable(Exception):
    """Cassandra did not answer in time, or not enough replicas were alive."""


def consistency_level(name: Consistency | None) -> int:
    return int(getattr(ConsistencyLevel, str(name)))


def connect(settings: ChatSettings, keyspace: str | None = None) -> tuple[Cluster, Session]:
    """Opens a cluster connection (blocking; call it from a thread or a command line)."""
    hosts, port = settings.cassandra_contact
    profile = ExecutionProfile(
        load_balancing_policy=RoundRobinPolicy(),
        consistency_level=consistency_level(settings.read_consistency),
        serial_consistency_level=consistency_level(settings.serial_consistency),
        request_timeout=settings.cassandra_timeout.total_seconds(),
        row_factory=dict_factory,
    )
    cluster = Cluster(
        hosts,
        port=port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
        connect_timeout=settings.cassandra_timeout.total_seconds(),
        # The driver's default backoff grows to ten minutes between tries: after a restart of
        # Cassandra, sends would answer 503 for up to twice the outage. Five seconds at most.
        reconnection_policy=ExponentialReconnectionPolicy(base_delay=0.5, max_delay=5.0),
    )
    try:
        return cluster, cluster.connect(keyspace)
    except Exception:
        cluster.shutdown()
        raise


async def execute(
    session: Session,
    statement: PreparedStatement | BoundStatement | BatchStatement,
    params: Sequence[Any] | None = None,
) -> list[Row]:
    """Runs a statement without blocking the event loop and returns its (first page of) rows.

    The driver calls back on its own I/O thread, so results are handed to the loop with
    `call_soon_threadsafe`. Every statement here either has a LIMIT or reads one small
    partition, so the first page is the whole answer.
    """
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[list[Row]] = loop.create_future()

    def on_rows(rows: list[Row]) -> None:
        # Writes answer with no rows at all (None).
        loop.call_soon_threadsafe(_settle, waiter, list(rows or ()), None)

    def on_error(error: BaseException) -> None:
        loop.call_soon_threadsafe(_settle, waiter, None, error)

    try:
        response = session.execute_async(statement, params)
    except _UNAVAILABLE as error:
        raise StoreUnavailable(str(error)) from error
    response.add_callbacks(on_rows, on_error)
    try:
        return await waiter
    except _UNAVAILABLE as error:
        raise StoreUnavailable(str(error)) from error


def _settle(
    waiter: "asyncio.Future[list[Row]]", rows: list[Row] | None, error: BaseException | None
) -> None:
    if waiter.done():  # the awaiting request was cancelled meanwhile
        return
    if error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(rows or [])


async def prepare(
    session: Session, query: str, consistency: Consistency | None, keyspace: str
) -> PreparedStatement:
    """Prepares a statement off the event loop, with its consistency level pinned.

    Table names in `query` are written `{ks}.table`: statements name their keyspace instead
    of relying on the session's `USE`, which Cassandra 5 warns is ambiguous.
    """
    statement: PreparedStatement = await asyncio.to_thread(
        session.prepare, query.format(ks=keyspace)
    )
    statement.consistency_level = consistency_level(consistency)
    return statement


class Statements:
    """A repository's named prepared statements: prepared once at start-up, each run without
    blocking the event loop."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._prepared: dict[str, PreparedStatement] = {}

    async def prepare(
        self, queries: dict[str, tuple[str, Consistency | None]], keyspace: str
    ) -> None:
        for name, (query, consistency) in queries.items():
            self._prepared[name] = await prepare(self._session, query, consistency, keyspace)

    def __getitem__(self, name: str) -> PreparedStatement:
        return self._prepared[name]

    async def run(self, name: str, *params: object) -> list[Row]:
        return await execute(self._session, self._prepared[name], params)

    def bind(self, name: str, *params: object) -> Write:
        bound: Write = self._prepared[name].bind(params)
        return bound

    async def run_together(self, writes: Sequence[Write]) -> None:
        """Runs plain writes (no lightweight transaction) in one request: a single one alone,
        several in one UNLOGGED batch (one answer, each partition written as if alone: no
        atomicity across them)."""
        if len(writes) == 1:
            await execute(self._session, writes[0])
            return
        batch = BatchStatement(BatchType.UNLOGGED, consistency_level=writes[0].consistency_level)
        for write in writes:
            batch.add(write)
        await execute(self._session, batch)


class Access(Enum):
    """Whether a statement reads or writes: which consistency level of the settings it runs at."""

    READ = "read"
    WRITE = "write"


READ, WRITE = Access.READ, Access.WRITE


class Repository:
    """The base of each repository: the statements of its `queries` table (name -> CQL and
    whether it reads or writes), prepared on the session by `prepare(settings)` at start-up."""

    queries: ClassVar[Mapping[str, tuple[str, Access]]]

    def __init__(self, session: Session) -> None:
        self._statements = Statements(session)

    async def prepare(self, settings: ChatSettings) -> None:
        levels = {READ: settings.read_consistency, WRITE: settings.write_consistency}
        table = {name: (query, levels[access]) for name, (query, access) in self.queries.items()}
        await self._statements.prepare(table, settings.keyspace)
