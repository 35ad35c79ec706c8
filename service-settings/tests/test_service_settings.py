from datetime import timedelta

import pytest
from pydantic import BaseModel, ValidationError

from service_settings import LOOPBACK_PROXIES, AppEnv, Duration, TrustedProxies, contact_points


class Example(BaseModel):
    app_env: AppEnv = AppEnv.DEVELOPMENT
    timeout: Duration = timedelta(seconds=3)
    trusted_proxies: TrustedProxies = LOOPBACK_PROXIES


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", timedelta(seconds=3)), ("0.5", timedelta(milliseconds=500)),
     ("PT2M", timedelta(minutes=2)), (7, timedelta(seconds=7))],
)  # fmt: skip
def test_durations_accept_seconds_and_iso_8601(raw: object, expected: timedelta) -> None:
    assert Example.model_validate({"timeout": raw}).timeout == expected


@pytest.mark.parametrize("raw", ["-1", "-0.001", -3, "-PT2S", "-01:00:00", timedelta(seconds=-1)])
def test_negative_durations_are_refused(raw: object) -> None:
    with pytest.raises(ValidationError, match="must not be negative"):
        Example.model_validate({"timeout": raw})


def test_a_zero_duration_is_accepted() -> None:
    assert Example.model_validate({"timeout": "0"}).timeout == timedelta(0)


def test_nonsense_duration_and_unknown_environment_are_refused() -> None:
    with pytest.raises(ValidationError):
        Example.model_validate({"timeout": "soon"})
    with pytest.raises(ValidationError):
        Example.model_validate({"app_env": "staging"})


def test_environment_compares_equal_to_its_name() -> None:
    assert Example.model_validate({"app_env": "production"}).app_env == "production"


def test_contact_points_split_hosts_and_take_the_port_given() -> None:
    assert contact_points("10.0.0.1:9142, 10.0.0.2") == (["10.0.0.1", "10.0.0.2"], 9142)
    assert contact_points("cassandra") == (["cassandra"], 9042)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10.0.0.0/8, 127.0.0.1", "10.0.0.0/8,127.0.0.1"), ("fd00::/8,::1", "fd00::/8,::1"),
     ("", ""), (" * ", "*")],
)  # fmt: skip
def test_trusted_proxies_take_addresses_and_networks_as_uvicorn_does(
    raw: str, expected: str
) -> None:
    assert Example.model_validate({"trusted_proxies": raw}).trusted_proxies == expected


@pytest.mark.parametrize("raw", ["10.0.0.1/8", "proxy.internal", "10.0.0.0/8,*", "300.1.1.1"])
def test_trusted_proxies_refuse_what_uvicorn_would_silently_never_match(raw: str) -> None:
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Example.model_validate({"trusted_proxies": raw})
