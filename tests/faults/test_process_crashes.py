"""A process of the pipeline is killed with SIGKILL mid-stream and started again, while the
conversations also edit and delete their earlier messages: every acknowledged message, edit
and deletion ends in history and in Firestore, a deletion is never undone.

A message may be in two burst documents only if its send had to be retried (the chat service
then publishes it again, harmlessly: readers merge by message_id); a crash of the aggregator
or the consumer never duplicates anything.
"""

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import pytest
from end_to_end_support import Pipeline
from fault_load import LoadShape, kill_and_restart, run_under_load
from fault_report import FaultRow, check_and_record


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["chat", "aggregator", "consumer", "kafka"])
async def test_acknowledged_messages_survive_a_crash_of(
    victim: str,
    pipeline: Pipeline,
    load_shape: LoadShape,
    fault_table: Callable[[FaultRow], None],
) -> None:
    crash = partial(kill_and_restart, pipeline, victim)
    with_changes = replace(load_shape, change_share=0.5)
    run = await run_under_load(pipeline, with_changes, crash)
    found = check_and_record(f"{victim} kill -9", pipeline, run, fault_table)
    assert run.record.changes, "no edit or deletion was acknowledged: nothing tested"
    if victim in ("aggregator", "consumer"):
        assert found.republished == set()
    else:
        # Both conversations may spend the whole outage retrying an edit or a deletion.
        reached = len(run.record.retried) + run.record.changes_retried
        assert reached, f"the {victim} crash never reached a request: nothing tested"
