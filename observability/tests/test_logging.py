"""configure_logging: one renderer for structlog and standard-library records."""

import json
import logging

import pytest
import structlog
from structlog.testing import capture_logs

from observability import configure_logging

# configure_logging changes process-wide state; later tests get it back as it was.
pytestmark = pytest.mark.usefixtures("restore_logging")


def test_json_lines_carry_the_event_its_fields_and_a_utc_timestamp(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(json=True, level="info")
    structlog.get_logger("stage").info("burst_flushed", count=3)
    logging.getLogger("aiokafka").warning("broker gone")
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert (first["event"], first["count"], first["level"]) == ("burst_flushed", 3, "info")
    assert first["logger"] == "stage"
    assert first["timestamp"].endswith("Z")
    assert (second["event"], second["logger"]) == ("broker gone", "aiokafka")


def test_the_level_filters_structlog_events_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=False, level="WARNING")
    structlog.get_logger("stage").info("quiet")
    structlog.get_logger("stage").warning("loud")
    output = capsys.readouterr().err
    assert "loud" in output
    assert "quiet" not in output


def test_a_logger_cached_before_a_second_configuration_follows_it() -> None:
    configure_logging(json=True, level="INFO")
    early = structlog.get_logger("stage")
    early.info("cached_now")  # caches the logger with the configuration of this moment
    configure_logging(json=True, level="INFO")  # as a second app in the same process does
    with capture_logs() as logs:
        early.warning("seen")
    assert [entry["event"] for entry in logs] == ["seen"]
