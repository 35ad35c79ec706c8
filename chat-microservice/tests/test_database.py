import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, NamedTuple

import acsylla
import pytest
from structlog.testing import capture_logs

from chat_service.database import (
    Prepared,
    Session,
    StoreUnavailable,
    TurnBatch,
    connect,
    execute,
    log_driver,
    prepare,
)
from chat_service.settings import ChatSettings, Consistency
from devstack.testing import unique_name


def test_the_drivers_warnings_and_errors_reach_the_log_but_not_its_scylla_notice() -> None:
    with capture_logs() as logs:
        log_driver(SimpleNamespace(log_level="WARN", message="Host 10.0.0.7 is down"))
        log_driver(SimpleNamespace(log_level="ERROR", message="Unable to connect to 10.0.0.7"))
        log_driver(
            SimpleNamespace(
                log_level="ERROR",
                message="Could not retrieve sharding info from connection to 10.0.0.7. "
                "Continuing WITHOUT SHARD-AWARENESS.",
            )
        )
    assert [(entry["log_level"], entry["said"]) for entry in logs] == [
        ("warning", "Host 10.0.0.7 is down"),
        ("error", "Unable to connect to 10.0.0.7"),
    ]


class CountingSession:
    """The real session, counting the requests it is given."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.single = 0  # plain statements
        self.batches = 0

    async def execute(self, statement: Any) -> Any:
        self.single += 1
        return await self._session.execute(statement)

    async def execute_batch(self, batch: Any) -> Any:
        self.batches += 1
        return await self._session.execute_batch(batch)


@pytest.fixture
async def scratch_table(chat_settings: ChatSettings) -> AsyncIterator[tuple[Session, str]]:
    session = await connect(chat_settings)
    table = f"{chat_settings.keyspace}.{unique_name('turn')}"
    await session.execute(acsylla.create_statement(f"CREATE TABLE {table} (k int PRIMARY KEY)"))
    yield session, table
    await session.execute(acsylla.create_statement(f"DROP TABLE IF EXISTS {table}"))
    await session.close()


async def _insert(session: Session, table: str) -> Prepared:
    return await prepare(session, f"INSERT INTO {table} (k) VALUES (?)", Consistency.ONE, "-")


async def _keys(session: Session, table: str) -> set[int]:
    rows = await execute(session, acsylla.create_statement(f"SELECT k FROM {table}"))
    return {row["k"] for row in rows}


class CountedTurn(NamedTuple):
    """A `TurnBatch` on the scratch table's session, which counts its requests."""

    session: Session
    table: str
    insert: Prepared
    counting: CountingSession
    turn: TurnBatch


@pytest.fixture
async def counted(scratch_table: tuple[Session, str]) -> CountedTurn:
    session, table = scratch_table
    counting = CountingSession(session)
    turn = TurnBatch(counting, acsylla.Consistency.ONE)  # type: ignore[arg-type]
    return CountedTurn(session, table, await _insert(session, table), counting, turn)


async def test_the_writes_of_one_turn_take_one_request(counted: CountedTurn) -> None:
    session, table, insert, counting, turn = counted
    await asyncio.gather(*(turn.write([insert.bind([k])], 50) for k in range(6)))
    assert (counting.batches, counting.single) == (1, 0)
    await turn.write([insert.bind([6])], 50)  # alone: sent as itself
    assert (counting.batches, counting.single) == (1, 1)
    assert await _keys(session, table) == set(range(7))


async def test_a_batch_stays_under_cassandras_warnings_for_unlogged_batches(
    counted: CountedTurn,
) -> None:
    session, table, insert, counting, turn = counted
    await asyncio.gather(*(turn.write([insert.bind([k])], 50) for k in range(21)))
    assert (counting.batches, counting.single) == (2, 1)  # 10 partitions, 10, the last alone
    pairs = [[insert.bind([100 + 2 * n]), insert.bind([101 + 2 * n])] for n in range(3)]
    large = turn.write([insert.bind([200])], TurnBatch.BYTES)  # no room beside anything
    await asyncio.gather(*(turn.write(pair, 100) for pair in pairs), large)
    assert (counting.batches, counting.single) == (3, 2)  # the pairs together, the large alone
    assert len(await _keys(session, table)) == 21 + 6 + 1


async def test_a_failed_batch_fails_every_write_in_it(
    scratch_table: tuple[Session, str],
) -> None:
    session, table = scratch_table
    insert = await _insert(session, table)
    await session.execute(acsylla.create_statement(f"DROP TABLE {table}"))
    turn = TurnBatch(session, acsylla.Consistency.ONE)
    outcomes = await asyncio.gather(
        *(turn.write([insert.bind([k])], 50) for k in range(3)), return_exceptions=True
    )
    # The driver finds no host that takes the statement: "try later", said to each caller.
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes), outcomes
    assert len({id(outcome) for outcome in outcomes}) == 3
