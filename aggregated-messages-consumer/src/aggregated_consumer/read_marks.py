"""Which read marks to write: "Seen" never moves back.

The chat service coalesces marks per reader, but a retried flush can still publish a mark older
than one it published before. The reader's document is written with a `set`, so the consumer
keeps, per (chat, reader), the highest mark it has sent to Firestore and drops any mark that is
not above it: one dictionary look-up per read mark, no Firestore read. It remembers the most
recently marked `size` readers only, and nothing across a restart: a mark re-read after a
restart is written again (a conditional write would close that gap at one read per mark).
"""

import uuid
from collections import OrderedDict

from chat_events import ReadMark, timeuuid_sort_key

REMEMBERED = 10_000
"""(chat, reader) pairs kept: about 2.5 MB, and far more than one process's active readers."""


class WrittenMarks:
    """The highest mark sent to Firestore for each recently marked (chat, reader)."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._marks: OrderedDict[tuple[uuid.UUID, str], uuid.UUID] = OrderedDict()

    def admit(self, mark: ReadMark) -> bool:
        """True, and remembered, if `mark` is above the last one admitted for its reader."""
        key = (mark.chat_id, mark.reader)
        held = self._marks.get(key)
        if held is not None and timeuuid_sort_key(mark.up_to) <= timeuuid_sort_key(held):
            return False
        self._marks[key] = mark.up_to
        self._marks.move_to_end(key)
        if len(self._marks) > self._size:
            self._marks.popitem(last=False)
        return True
