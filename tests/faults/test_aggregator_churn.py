"""Aggregator replicas join and leave the consumer group every few seconds while messages
flow: every rebalance flushes the revoked partitions' buffers and hands over their offsets,
so nothing is lost and nothing is doubled."""

import random
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from end_to_end_support import Pipeline
from fault_load import FULL, LoadShape, run_under_load, seconds_until
from fault_report import FaultRow, check_and_record

from devstack.testing import ServiceProcess, free_port, unique_name

REPLICAS = 3


@pytest.fixture
def replicas(pipeline: Pipeline, tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    """Three more aggregators in the pipeline's group, each with its own transactional id."""
    processes = [
        ServiceProcess(
            "aggregator",
            {
                "KAFKA_BOOTSTRAP_SERVERS": pipeline.settings.endpoints.kafka_bootstrap_servers,
                "AGGREGATOR_TRANSACTIONAL_ID": unique_name(f"replica{number}"),
                "AGGREGATOR_HTTP_PORT": str(free_port()),
            },
            tmp_path / f"replica-{number}.log",
        )
        for number in range(REPLICAS)
    ]
    yield processes
    for process in processes:
        process.stop_quietly()


def answers(replica: ServiceProcess) -> bool:
    try:
        port = replica.env["AGGREGATOR_HTTP_PORT"]
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow
async def test_replicas_joining_and_leaving_lose_and_double_nothing(
    pipeline: Pipeline,
    load_shape: LoadShape,
    fault_table: Callable[[FaultRow], None],
    replicas: list[ServiceProcess],
) -> None:
    churn_seconds = 60.0 if FULL else 30.0
    changes: list[str] = []

    def churn() -> float:
        rng = random.Random(11)
        started = time.monotonic()
        while time.monotonic() - started < churn_seconds:
            replica = rng.choice(replicas)
            if replica.alive():
                leaving = time.monotonic()
                assert replica.terminate(timeout=60) == 0, replica.output()
                changes.append(f"leave {time.monotonic() - leaving:.1f}s")
            else:
                replica.start()
                # A replica joins once it answers; a SIGTERM before it installed its handlers
                # would be a kill, not a leave.
                joining = seconds_until(partial(answers, replica), within=60)
                changes.append(f"join {joining:.1f}s")
            time.sleep(rng.uniform(1.5, 3.5))
        for replica in replicas:
            if replica.alive():
                assert replica.terminate(timeout=60) == 0, replica.output()
                changes.append("leave")
        return time.monotonic() - started

    run = await run_under_load(pipeline, load_shape, churn)
    found = check_and_record(
        f"aggregator churn ({len(changes)} changes)", pipeline, run, fault_table
    )
    assert found.republished == set()
    assert run.record.retried == set()
    joins = sum(change.startswith("join") for change in changes)
    assert min(joins, len(changes) - joins) >= 2, changes
