"""What every stream stage shares: Kafka settings, run-until-signal, probes, metrics shape."""

from stream_kit.cli import Command, run_command
from stream_kit.dead_letters import dead_letter_headers, log_dead_letter
from stream_kit.lifecycle import close_all, run_until_signal, stop_on_signals
from stream_kit.metrics import LAG_BUCKETS, StageMetrics
from stream_kit.probes import ProbeServer, Readiness, ReadinessCheck
from stream_kit.settings import Port, StreamSettings, milliseconds

__all__ = [
    "LAG_BUCKETS",
    "Command",
    "Port",
    "ProbeServer",
    "Readiness",
    "ReadinessCheck",
    "StageMetrics",
    "StreamSettings",
    "close_all",
    "dead_letter_headers",
    "log_dead_letter",
    "milliseconds",
    "run_command",
    "run_until_signal",
    "stop_on_signals",
]
