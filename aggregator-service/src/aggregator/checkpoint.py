"""What a partition's committed offset cannot say on its own, carried in the commit metadata.

The committed offset stops at the first message still held in a buffer, so after a crash the
partition is read again from there. Some of the messages between that offset and the end of
what was read had already left in bursts (other senders, or an earlier burst of the same
sender). Re-reading them would put them in a second burst. The checkpoint records, next to the
offset, how far the partition had been read and where each still-open buffer started: on the
replay a message below that mark is taken again only if its buffer was still open.

The other records below the mark left in the transaction of the commit that wrote the mark, or
an earlier one. An edit or a deletion is keyed like the messages of its author, (chat, author):
if that key's buffer was open at it, the buffer is being rebuilt and the change is applied to
it again. A read mark or a rejected record belongs to no buffer (key None): below the mark it
has always left.
"""

import hashlib
from dataclasses import dataclass, field
from enum import Enum

from aggregator.window import BufferKey

_VERSION = "v1"


class Replay(Enum):
    """What a re-read record is, as far as the checkpoint tells."""

    NEW = "new"
    """At or above the mark: never read before."""
    REBUILT = "rebuilt"
    """Below the mark, and its key's buffer was open at it: a message is taken again, a change
    is applied again; neither was emitted in a burst yet."""
    LEFT = "left"
    """Below the mark, and its key's buffer was not open at it: it already left."""


def key_digest(key: BufferKey) -> str:
    """A short, stable name for a (chat, sender) key; metadata space is limited (4 KiB)."""
    chat_id, from_user = key
    raw = f"{chat_id}|{from_user}".encode()
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """`read_up_to`: offset after the last message read; `open_from`: key digest -> first offset."""

    read_up_to: int
    open_from: dict[str, int] = field(default_factory=dict)

    def encode(self) -> str:
        # Offsets are written as distances below `read_up_to`: short, whatever the log's age.
        pairs = ",".join(
            f"{digest}:{self.read_up_to - offset}"
            for digest, offset in sorted(self.open_from.items())
        )
        return f"{_VERSION};{self.read_up_to};{pairs}"

    @classmethod
    def decode(cls, text: str | None) -> "Checkpoint | None":
        """None for empty or foreign metadata: then every message from the offset is new."""
        if not text:
            return None
        try:
            version, read_up_to, pairs = text.split(";", 2)
            if version != _VERSION:
                return None
            open_from = {}
            for pair in filter(None, pairs.split(",")):
                digest, distance = pair.split(":")
                open_from[digest] = int(read_up_to) - int(distance)
            return cls(read_up_to=int(read_up_to), open_from=open_from)
        except ValueError:
            return None

    def verdict(self, key: BufferKey | None, offset: int) -> Replay:
        """Where a record of `key` (None: of no buffer) read again at `offset` stands."""
        if offset >= self.read_up_to:
            return Replay.NEW
        first = None if key is None else self.open_from.get(key_digest(key))
        return Replay.LEFT if first is None or offset < first else Replay.REBUILT


def next_checkpoint(
    read_up_to: int, open_keys: dict[BufferKey, int], previous: Checkpoint | None
) -> Checkpoint:
    """The checkpoint to commit now, given the one being replayed (if any).

    While a partition is still replaying, the messages between `read_up_to` and the previous
    mark are not read yet: the previous checkpoint's verdict on them must survive this commit.
    A key that was open then and is not open now keeps everything from `read_up_to` on.
    """
    open_from = {key_digest(key): offset for key, offset in open_keys.items()}
    if previous is None or read_up_to >= previous.read_up_to:
        return Checkpoint(read_up_to=read_up_to, open_from=open_from)
    for digest, first in previous.open_from.items():
        open_from.setdefault(digest, max(first, read_up_to))
    return Checkpoint(read_up_to=previous.read_up_to, open_from=open_from)
