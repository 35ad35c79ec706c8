from datetime import timedelta

from chat_service.rate_limits import SendLimits, body_fingerprint, send_rate_item
from chat_service.settings import ChatSettings


def _limits(**overrides: object) -> SendLimits:
    return SendLimits(ChatSettings(app_env="test", **overrides))


def test_rate_window_holds_the_burst_over_burst_divided_by_rate() -> None:
    item = send_rate_item(5.0, 20)
    assert (item.amount, item.get_expiry()) == (20, 4)
    assert send_rate_item(100.0, 20).get_expiry() == 1


async def test_the_send_after_the_burst_is_refused_with_a_retry_delay() -> None:
    limits = _limits(send_rate_per_second=1.0, send_burst=3)
    verdicts = [await limits.check_rate("42") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].limit == "rate"
    assert 1 <= verdicts[-1].retry_after_seconds <= 3


async def test_limits_are_per_user() -> None:
    limits = _limits(send_rate_per_second=1.0, send_burst=1)
    assert (await limits.check_rate("1")).allowed
    assert (await limits.check_rate("2")).allowed
    assert not (await limits.check_rate("1")).allowed
    assert (await limits.check_repeat("1", "a")).allowed


async def test_the_sixth_identical_body_within_the_window_is_refused() -> None:
    limits = _limits(repeat_body_limit=5, repeat_body_window=timedelta(seconds=30))
    verdicts = [await limits.check_repeat("7", "buy now") for _ in range(6)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False]
    assert verdicts[-1].limit == "repeat"
    assert 25 <= verdicts[-1].retry_after_seconds <= 30
    assert (await limits.check_repeat("7", "something else")).allowed
    assert (await limits.check_repeat("8", "buy now")).allowed


def test_repeats_are_recognised_despite_case_and_spacing() -> None:
    assert body_fingerprint("Buy  NOW") == body_fingerprint("buy now")
    assert body_fingerprint("buy now") != body_fingerprint("buy later")
