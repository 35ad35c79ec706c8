"""Under send load, the pod of the chat service, the aggregator and the consumer is deleted in
turn (`kubectl delete pod`, as a node drain or an eviction would): its Deployment brings a new
one (the aggregator is a StatefulSet: the same name comes back, with its transactional id),
and the fault suite's audit finds every acknowledged message once in history and in
Firestore."""

import time
from collections.abc import Callable

import pytest
from cluster_support import NAMESPACE, REPORT, kubectl
from end_to_end_support import Pipeline
from fault_load import LoadShape, run_under_load
from fault_report import FaultRow, check_and_record, render

WORKLOADS = {
    "chat": "deployment/chat",
    "aggregator": "statefulset/aggregator",
    "consumer": "deployment/aggregated-consumer",
}


def delete_pod(workload: str) -> float:
    """Deletes the workload's pod; returns the seconds until its replacement is Ready."""
    started = time.monotonic()
    selector = f"app.kubernetes.io/name={workload.split('/')[1]}"
    kubectl("--namespace", NAMESPACE, "delete", "pod", "--selector", selector, "--wait=false")
    time.sleep(1)
    kubectl("--namespace", NAMESPACE, "rollout", "status", workload, "--timeout=300s")
    kubectl("--namespace", NAMESPACE, "wait", "--for=condition=Ready", "pod",
            "--selector", selector, "--timeout=300s")  # fmt: skip
    return time.monotonic() - started


ROWS: list[FaultRow] = []


@pytest.mark.parametrize("victim", list(WORKLOADS))
async def test_acknowledged_messages_survive_the_deletion_of_the_pod_of(
    victim: str, pipeline: Pipeline
) -> None:
    # One send per conversation every 0.25 s: under the overlay's limit of 5 per user and second.
    shape = LoadShape(conversations=3, fault_after=20, pace=0.25, tail=10)
    run = await run_under_load(pipeline, shape, lambda: delete_pod(WORKLOADS[victim]))
    add: Callable[[FaultRow], None] = ROWS.append
    found = check_and_record(f"{victim} pod deleted", pipeline, run, add)
    row = ROWS[-1]
    REPORT.add(
        f"pod deleted: {victim}",
        f"{row.acknowledged} acknowledged, {row.lost} lost, {row.duplicated} duplicated, "
        f"back in {row.down_seconds} s",
    )
    print(render(ROWS))
    assert found.acknowledged >= shape.fault_after
