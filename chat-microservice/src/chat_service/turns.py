"""Calls made in one turn of the event loop, sent to a store together at the loop's next turn.

Under load the sends that one event resumes (a read of the HTTP sockets, an answer of Redis,
a Kafka acknowledgement) reach the same step in the same turn of the loop: one request can
serve them all, and a store's per-request work is most of what a small request costs. The
send gate's Redis pipeline and the turn's Cassandra batch are the two users.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

Call = TypeVar("Call")

Send = Callable[[list[Call]], Awaitable[Sequence[Any]]]
"""Sends a group's calls in one request: one outcome a call, in order, an exception for a call
that failed; an exception it raises is every call's."""

Fits = Callable[[list[Call], Call], bool]
"""Whether a call may join the group of calls already open."""


def _always(group: list[Any], call: Any) -> bool:
    return True


class TurnGroup(Generic[Call]):
    """Gathers the calls made in one turn of the event loop and sends them with `send` at the
    loop's next turn; each caller waits for its own outcome. A call that does not fit the open
    group (`fits`) opens the next one, sent in a request of its own. A caller cancelled while
    it waits is skipped when the outcomes arrive."""

    def __init__(self, send: Send[Call], fits: Fits[Call] = _always) -> None:
        self._send, self._fits = send, fits
        self._open: _Group[Call] | None = None
        self._sending: set[asyncio.Task[None]] = set()  # held until done

    async def join(self, call: Call) -> Any:
        """The outcome of `call`, sent with the other calls of this turn; raises its error."""
        group = self._open
        if group is None or not self._fits(group.calls, call):
            group = self._open = _Group()
            task = asyncio.create_task(self._flush(group))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        answer = asyncio.get_running_loop().create_future()
        group.calls.append(call)
        group.answers.append(answer)
        return await answer

    async def _flush(self, group: "_Group[Call]") -> None:
        if self._open is group:
            self._open = None  # calls from now on go in the next group
        try:
            outcomes = await self._send(group.calls)
        except Exception as error:  # the request failed: each of its callers gets the error
            outcomes = [error] * len(group.calls)
        for answer, outcome in zip(group.answers, outcomes, strict=True):
            if answer.done():  # its caller was cancelled
                continue
            if isinstance(outcome, BaseException):
                answer.set_exception(outcome)
            else:
                answer.set_result(outcome)


class _Group(Generic[Call]):
    """The calls of one request and the answers their callers wait for."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.answers: list[asyncio.Future[Any]] = []
