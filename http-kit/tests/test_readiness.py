"""Readiness asks every probe the same question and names what fails."""

from http_kit import check_readiness, failing


class Up:
    async def check(self) -> None:
        return None


class Down:
    async def check(self) -> None:
        raise ConnectionError("connection refused")


async def test_each_dependency_is_named_with_its_state() -> None:
    states = await check_readiness({"store": Up(), "queue": Down()})
    assert states == {"store": "ok", "queue": "unavailable: connection refused"}
    assert failing(states) == ["queue"]


async def test_all_up_is_ready() -> None:
    assert failing(await check_readiness({"store": Up()})) == []
