import asyncio
from typing import Any

import pytest

from chat_service.turns import TurnGroup


class Store:
    """A store that answers each call with its double, or with the error a call names, and
    records the groups it was sent."""

    def __init__(self) -> None:
        self.requests: list[list[int]] = []
        self.down = False

    async def send(self, calls: list[int]) -> list[Any]:
        self.requests.append(list(calls))
        await asyncio.sleep(0)
        if self.down:
            raise ConnectionError("store down")
        return [ValueError(call) if call < 0 else 2 * call for call in calls]


async def test_the_calls_of_one_turn_go_in_one_request_and_each_gets_its_own_outcome() -> None:
    store = Store()
    group = TurnGroup(store.send)
    outcomes = await asyncio.gather(*(group.join(n) for n in (1, 2, -3)), return_exceptions=True)
    assert store.requests == [[1, 2, -3]]
    assert outcomes[:2] == [2, 4]
    assert isinstance(outcomes[2], ValueError)
    assert await group.join(5) == 10  # a later turn: a request of its own
    assert store.requests[-1] == [5]


async def test_a_call_that_does_not_fit_opens_the_next_request() -> None:
    store = Store()
    group = TurnGroup(store.send, lambda open_calls, call: sum(open_calls) + call <= 5)
    assert await asyncio.gather(*(group.join(n) for n in (2, 3, 4, 1))) == [4, 6, 8, 2]
    assert store.requests == [[2, 3], [4, 1]]


async def test_a_failed_request_fails_every_caller_in_it() -> None:
    store = Store()
    store.down = True
    group = TurnGroup(store.send)
    outcomes = await asyncio.gather(*(group.join(n) for n in range(3)), return_exceptions=True)
    assert [str(outcome) for outcome in outcomes] == ["store down"] * 3
    store.down = False
    assert await group.join(4) == 8  # the next turn's request is not held back


async def test_a_cancelled_caller_is_skipped_and_the_others_get_their_outcomes() -> None:
    store = Store()
    group = TurnGroup(store.send)
    cancelled = asyncio.ensure_future(group.join(1))
    kept = asyncio.ensure_future(group.join(2))
    await asyncio.sleep(0)  # both have joined the open group
    cancelled.cancel()
    assert await kept == 4
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert store.requests == [[1, 2]]
