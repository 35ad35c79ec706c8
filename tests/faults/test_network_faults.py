"""One network link goes bad under a steady load of sends, edits and deletions: every answer the
clients get is an acknowledgement or a 503 with Retry-After, within REQUEST_TIMEOUT; every
acknowledged message, edit and deletion ends in history and in Firestore exactly once; every
service is ready again once the link is mended, without a restart.

The links are the seven a service opens to a dependency (network_links.py), each through a
Toxiproxy: 500 ms of latency on every answer, a blackhole (connections accepted, nothing
answered, what was sent dropped) and connection resets. `make fault` breaks each link each way
for 15 s, one row per link and fault (about 12 minutes); `make test`'s short form breaks two
links the three ways in turn (3 s, 8 s and 3 s), one row per link (SHORT_FORM_LINKS). Logins
run beside the load throughout, so the auth service's link to Postgres meets requests too.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import httpx
import pytest
from end_to_end_support import Pipeline, sign_up_and_log_in
from fault_load import FULL, REQUEST_TIMEOUT, LoadRecord, LoadShape, run_under_load
from fault_report import FaultRow, check_and_record
from network_links import BLACKHOLE, LATENCY, NETWORK_FAULTS, RESETS, NetworkFault, Toxiproxy

from devstack.services import Service
from devstack.testing import unique_name

LINKS = (
    "chat-cassandra", "chat-kafka", "chat-redis", "auth-postgres", "aggregator-kafka",
    "consumer-kafka", "consumer-firestore",
)  # fmt: skip
SECONDS = {LATENCY.name: 15.0, BLACKHOLE.name: 15.0, RESETS.name: 15.0} if FULL else {
    LATENCY.name: 3.0, BLACKHOLE.name: 8.0, RESETS.name: 3.0,
}  # fmt: skip
"""How long each fault lasts, by its name."""
SHORT_FORM_LINKS = ("auth-postgres", "aggregator-kafka")
"""The links `make test` breaks: the two whose failures needed code of their own (auth's
watch over its database calls, the aggregator's producer renewal that waits for Kafka)."""
CASES = (
    [(link, (fault,)) for link in LINKS for fault in NETWORK_FAULTS]
    if FULL
    else [(link, NETWORK_FAULTS) for link in SHORT_FORM_LINKS]
)


@dataclass
class LoginProbe:
    """Logs one user in every half second while a link is broken, counting the answers the
    way the load does."""

    pipeline: Pipeline
    form: dict[str, str]
    record: LoadRecord = field(default_factory=LoadRecord)

    def run_for(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
            while time.monotonic() < until:
                started = time.monotonic()
                try:
                    response = client.post(f"{self.pipeline.auth_url}/v1/login/", data=self.form)
                    self.record.count(response, time.monotonic() - started)
                except httpx.TimeoutException:
                    self.record.hangs += 1
                time.sleep(0.5)


def unknown_outcomes(pipeline: Pipeline) -> float:
    """The aggregator's count of transactions whose outcome it could not learn."""
    aggregator = pipeline.components["aggregator"]
    assert isinstance(aggregator, Service)
    text = httpx.get(f"http://127.0.0.1:{aggregator.port}/metrics", timeout=5).text
    found = re.search(r'transactions_total\{outcome="outcome_unknown"\} (\S+)', text)
    return float(found.group(1)) if found else 0.0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("link", "faults"), CASES,
    ids=[f"{link}-{'+'.join(f.toxic for f in faults)}" for link, faults in CASES],
)  # fmt: skip
async def test_a_broken_link_loses_and_doubles_nothing(
    link: str,
    faults: tuple[NetworkFault, ...],
    pipeline: Pipeline,
    toxiproxy: Toxiproxy,
    load_shape: LoadShape,
    fault_table: Callable[[FaultRow], None],
) -> None:
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        user = sign_up_and_log_in(client, pipeline, unique_name("probe"))
    form = {"username": user.username, "password": f"pw-{user.username}-long-enough"}
    probe = LoginProbe(pipeline, form)
    unknown_before = unknown_outcomes(pipeline)

    def break_link() -> float:
        started = time.monotonic()
        for fault in faults:
            with toxiproxy.broken(link, fault):
                probe.run_for(SECONDS[fault.name])
        return time.monotonic() - started

    run = await run_under_load(pipeline, replace(load_shape, change_share=0.3), break_link)
    run.record.merge_answers(probe.record, "login")
    check_and_record(f"{link}: {' + '.join(f.name for f in faults)}", pipeline, run, fault_table)
    assert probe.record.statuses, "no login was tried while the link was broken"
    if link == "aggregator-kafka" and BLACKHOLE in faults:
        # A commit sent into the blackhole never gets its answer: the producer is renewed.
        assert unknown_outcomes(pipeline) > unknown_before, "no commit met the blackhole"
