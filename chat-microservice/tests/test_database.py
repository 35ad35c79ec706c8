from types import SimpleNamespace

from structlog.testing import capture_logs

from chat_service.database import log_driver


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
