"""The metrics shape: prefixed names on the stage's own registry, and the lag histogram."""

from datetime import UTC, datetime, timedelta

from prometheus_client import generate_latest

from stream_kit import StageMetrics


class StageOneMetrics(StageMetrics):
    prefix = "stage"
    lag_help = "Send to sink."

    def declare(self) -> None:
        self.records_in = self.counter("records_in_total", "Records read.")
        self.outcomes = self.counter("commits_total", "Commits by outcome.", ["outcome"])
        self.open = self.gauge("open_buffers", "Open buffers.")


def test_names_carry_the_stage_prefix_and_live_in_its_own_registry() -> None:
    first, second = StageOneMetrics(), StageOneMetrics()  # no clash: separate registries
    first.records_in.inc(2)
    first.outcomes.labels("committed").inc()
    first.open.set(4)
    text = generate_latest(first.registry).decode()
    assert "stage_records_in_total 2.0" in text
    assert 'stage_commits_total{outcome="committed"} 1.0' in text
    assert "stage_open_buffers 4.0" in text
    assert "stage_records_in_total 0.0" in generate_latest(second.registry).decode()


def test_lag_is_observed_per_message_and_never_negative() -> None:
    metrics = StageOneMetrics()
    now = datetime.now(UTC)
    metrics.observe_lag([now - timedelta(seconds=2), now + timedelta(minutes=1)])
    text = generate_latest(metrics.registry).decode()
    assert "stage_end_to_end_lag_seconds_count 2.0" in text
    assert 'stage_end_to_end_lag_seconds_bucket{le="0.1"} 1.0' in text  # the future one: 0
    assert 'stage_end_to_end_lag_seconds_bucket{le="3.0"} 2.0' in text


def test_every_stage_counts_its_dead_letters_by_reason() -> None:
    metrics = StageOneMetrics()
    metrics.dead_letters.labels("undecodable").inc()
    text = generate_latest(metrics.registry).decode()
    assert 'stage_dead_letters_total{reason="undecodable"} 1.0' in text
