"""The Cassandra connection: acsylla (asyncio bindings of the C++ driver), prepared statements
and the errors that mean "try later".

Why this driver, and what it costs and changes: docs/decisions/0005-cassandra-driver.md. It
speaks protocol v4 to Cassandra 5, answers on the event loop without a thread hop of ours, and
gives uuid and timeuuid columns as text: repositories turn the ones they need into `uuid.UUID`
(`as_uuid`). Timestamps come back as aware UTC datetimes.
"""

import uuid
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, ClassVar, NamedTuple, TypeAlias

import acsylla
import structlog
from acsylla import errors as driver

from chat_service.settings import ChatSettings, Consistency
from chat_service.turns import TurnGroup

log = structlog.get_logger(__name__)

Row = dict[str, Any]
Session: TypeAlias = acsylla.Session
Write: TypeAlias = acsylla.Statement
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
_UNAVAILABLE = (
    driver.CassErrorLibNoHostsAvailable,
    driver.CassErrorLibRequestTimedOut,
    driver.CassErrorLibUnableToConnect,
    driver.CassErrorLibRequestQueueFull,
    driver.CassErrorLibNoStreams,
    driver.CassErrorLibWriteError,
    driver.CassErrorLibUnableToDetermineProtocol,
    driver.CassErrorServerUnavailable,
    driver.CassErrorServerOverloaded,
    driver.CassErrorServerIsBootstrapping,
    driver.CassErrorServerReadTimeout,
    driver.CassErrorServerWriteTimeout,
    driver.CassErrorServerReadFailure,
    driver.CassErrorServerWriteFailure,
    driver.CassExceptionConnectionError,
)

# Said by the C++ driver, as an error, on every connection to a Cassandra (sharding is
# ScyllaDB's): noise.
_NOT_SCYLLA = "Could not retrieve sharding info"


class StoreUnavailable(Exception):
    """Cassandra did not answer in time, or not enough replicas were alive."""


def as_uuid(text: str | None) -> uuid.UUID | None:
    """A uuid or timeuuid column's value (the driver gives them as text)."""
    return None if text is None else uuid.UUID(text)


def _level(name: Consistency | None) -> acsylla.Consistency:
    return acsylla.Consistency[str(name)]


def log_driver(message: Any) -> None:
    """The driver's own warnings and errors (hosts down and up, reconnections) in our log."""
    if _NOT_SCYLLA in message.message:
        return
    serious = message.log_level in ("ERROR", "CRITICAL")
    (log.error if serious else log.warning)("cassandra_driver", said=message.message)


async def connect(settings: ChatSettings, keyspace: str | None = None) -> Session:
    """Opens a session on the cluster (answers StoreUnavailable if no host does)."""
    hosts, port = settings.cassandra_contact
    seconds = settings.cassandra_timeout.total_seconds()
    cluster = acsylla.create_cluster(
        hosts,
        port=port,
        protocol_version=4,
        connect_timeout=seconds,
        request_timeout=seconds,
        consistency=_level(settings.read_consistency),
        serial_consistency=_level(settings.serial_consistency),
        load_balance_round_robin=True,
        # The driver's default backoff grows to a minute between tries: after a restart of
        # Cassandra, sends would answer 503 long after it is back. Five seconds at most.
        exponential_reconnect_base_delay_ms=500,
        exponential_reconnect_max_delay_ms=5_000,
        log_level="warn",
        logging_callback=log_driver,
        application_name="chat-service",
    )
    try:
        return await cluster.create_session(keyspace)
    except _UNAVAILABLE as error:
        raise StoreUnavailable(str(error)) from error


async def execute(session: Session, statement: Write) -> list[Row]:
    """Runs a statement and returns its rows as dicts: all of them, since this driver pages
    only when asked to (every statement here has a LIMIT or reads one small partition)."""
    try:
        result = await session.execute(statement)
    except _UNAVAILABLE as error:
        raise StoreUnavailable(str(error)) from error
    return [row.as_dict() for row in result]


async def execute_batch(session: Session, batch: acsylla.Batch) -> None:
    try:
        await session.execute_batch(batch)
    except _UNAVAILABLE as error:
        raise StoreUnavailable(str(error)) from error


class Prepared:
    """A prepared statement with the consistency level it runs at."""

    def __init__(self, statement: acsylla.PreparedStatement, level: acsylla.Consistency) -> None:
        self.statement, self.level = statement, level

    def bind(self, params: Sequence[object]) -> Write:
        return self.statement.bind(list(params), consistency=self.level)


async def prepare(
    session: Session, query: str, consistency: Consistency | None, keyspace: str
) -> Prepared:
    """Prepares a statement with its consistency level pinned.

    Table names in `query` are written `{ks}.table`: statements name their keyspace instead
    of relying on the session's `USE`, which Cassandra 5 warns is ambiguous.
    """
    try:
        statement = await session.create_prepared(query.format(ks=keyspace))
    except _UNAVAILABLE as error:
        raise StoreUnavailable(str(error)) from error
    return Prepared(statement, _level(consistency))


class Statements:
    """A repository's named prepared statements: prepared once at start-up."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._prepared: dict[str, Prepared] = {}
        # Its level is the one of every batch of this repository's writes, set by `prepare`.
        self._turn = TurnBatch(session, acsylla.Consistency.ONE)

    async def prepare(
        self,
        queries: dict[str, tuple[str, Consistency | None]],
        keyspace: str,
        batch_consistency: Consistency | None,
    ) -> None:
        for name, (query, consistency) in queries.items():
            self._prepared[name] = await prepare(self._session, query, consistency, keyspace)
        self._turn.level = _level(batch_consistency)

    async def run(self, name: str, *params: object) -> list[Row]:
        return await execute(self._session, self._prepared[name].bind(params))

    def bind(self, name: str, *params: object) -> Write:
        return self._prepared[name].bind(params)

    async def run_in_turn(self, writes: Sequence[Write], size: int) -> None:
        """Runs plain writes together, and with the writes other callers issue in the same turn
        of the event loop (`TurnBatch`); `size` estimates the bytes of their values."""
        await self._turn.write(writes, size)

    async def run_together(self, writes: Sequence[Write]) -> None:
        await run_together(self._session, self._turn.level, writes)


async def run_together(
    session: Session, level: acsylla.Consistency, writes: Sequence[Write]
) -> None:
    """Runs plain writes (no lightweight transaction) in one request: a single one alone,
    several in one UNLOGGED batch at `level` (one answer, each partition written as if alone:
    no atomicity across them)."""
    if len(writes) == 1:
        await execute(session, writes[0])
        return
    batch = acsylla.create_batch_unlogged()
    batch.set_consistency(level)
    for write in writes:
        batch.add_statement(write)
    await execute_batch(session, batch)


class TurnBatch:
    """Plain writes issued in one turn of the event loop, sent to Cassandra as one request.

    Whatever a request carries, Cassandra hands it between a few of its threads, and the
    driver and the event loop answer it one by one: under load that per-request work cost
    more than the writes (docs/performance.md, "One request a turn"). The sends that one
    answer of Redis resumes reach their insert in the same turn: their writes go in one
    UNLOGGED batch, written at the loop's next turn (`TurnGroup`), and each caller waits for
    the batch's answer. A caller's writes stay in one batch; a batch holds at most
    `PARTITIONS` writes and about `BYTES` of values (Cassandra warns about unlogged batches of
    more than 10 partitions or 5 KiB), the next ones open another; a lone write is sent as
    itself. Each partition is written as if alone, so a failed batch fails every caller in
    it, and each retries as after its own failed write."""

    PARTITIONS = 10
    BYTES = 4096

    def __init__(self, session: Session, level: acsylla.Consistency) -> None:
        self._session, self.level = session, level
        self._group = TurnGroup(self._send, _fits)

    async def write(self, writes: Sequence[Write], size: int) -> None:
        """Runs `writes` in the open batch (or a new one); `size` estimates their values' bytes."""
        await self._group.join(_Writes(writes, size))

    async def _send(self, calls: list["_Writes"]) -> list[Exception | None]:
        writes = [write for call in calls for write in call.writes]
        try:
            await run_together(self._session, self.level, writes)
        except StoreUnavailable as error:  # "try later", raised by each caller as its own
            return [StoreUnavailable(str(error)) for _ in calls]
        return [None] * len(calls)  # a refusal (a bug) is raised, and shared (`TurnGroup`)


class _Writes(NamedTuple):
    """One caller's writes in a `TurnBatch`, and the estimated bytes of their values."""

    writes: Sequence[Write]
    size: int


def _fits(batch: list[_Writes], call: _Writes) -> bool:
    return (
        sum(len(other.writes) for other in batch) + len(call.writes) <= TurnBatch.PARTITIONS
        and sum(other.size for other in batch) + call.size <= TurnBatch.BYTES
    )


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
        await self._statements.prepare(table, settings.keyspace, settings.write_consistency)
