from structlog.testing import capture_logs

from chat_service.metrics import Metrics
from chat_service.rate_limits import SendLimits, body_fingerprint, send_rate_item
from chat_service.settings import ChatSettings
from devstack.settings import Endpoints
from devstack.testing import unique_name


def _limits(metrics: Metrics | None = None, **overrides: object) -> SendLimits:
    # Keys of their own in the stack's Redis, which outlives test runs.
    settings = ChatSettings(rate_limit_prefix=unique_name("chat_limits"))
    return SendLimits(settings.model_copy(update=overrides), metrics or Metrics())


def _sample(metrics: Metrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


def test_rate_window_holds_the_burst_over_burst_divided_by_rate() -> None:
    item = send_rate_item(5.0, 20)
    assert (item.amount, item.get_expiry()) == (20, 4)
    assert send_rate_item(100.0, 20).get_expiry() == 1


async def test_sends_counted_in_memory_keep_the_same_windows() -> None:
    """What the send gate falls back to while Redis does not answer."""
    limits = _limits(send_rate_per_second=1.0, send_burst=3, repeat_body_limit=2)
    verdicts = [await limits.check_rate("42") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert (verdicts[-1].limit, 1 <= verdicts[-1].retry_after_seconds <= 3) == ("rate", True)
    assert (await limits.check_rate("43")).allowed
    repeats = [await limits.check_repeat("7", "buy now") for _ in range(3)]
    assert [v.allowed for v in repeats] == [True, True, False]
    assert repeats[-1].limit == "repeat"


def test_repeats_are_recognised_despite_case_and_spacing() -> None:
    assert body_fingerprint("Buy  NOW") == body_fingerprint("buy now")
    assert body_fingerprint("buy now") != body_fingerprint("buy later")


async def test_with_redis_unreachable_changes_are_limited_in_memory_and_one_warning_is_logged(
    closed_address: str,
) -> None:
    metrics = Metrics()
    limits = _limits(
        metrics, rate_limit_storage=f"redis://{closed_address}/0", change_rate_per_minute=3
    )
    with capture_logs() as logs:
        changes = [await limits.check_change("42") for _ in range(4)]
    assert [v.allowed for v in changes] == [True, True, True, False]
    assert changes[-1].retry_after_seconds >= 1
    warnings = [entry for entry in logs if entry["event"] == "rate_limit_store_unavailable"]
    assert len(warnings) == 1, logs
    assert warnings[0]["log_level"] == "warning"
    assert _sample(metrics, "chat_rate_limit_fallback") == 1
    assert _sample(metrics, "chat_rate_limit_store_outages_total") == 1


async def test_with_redis_answering_no_change_falls_back_to_memory(stack: Endpoints) -> None:
    metrics = Metrics()
    limits = _limits(metrics, rate_limit_storage=stack.redis_url, change_rate_per_minute=2)
    assert [(await limits.check_change("9")).allowed for _ in range(3)] == [True, True, False]
    assert _sample(metrics, "chat_rate_limit_fallback") == 0
    assert _sample(metrics, "chat_rate_limit_store_outages_total") == 0
