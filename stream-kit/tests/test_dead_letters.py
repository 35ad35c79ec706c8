from aiokafka import ConsumerRecord

from stream_kit import dead_letter_headers


def test_a_dead_letter_says_why_and_where_it_came_from() -> None:
    record = ConsumerRecord("in", 2, 41, 0, 0, b"k", b"v", None, 1, 1, ())
    headers = dict(dead_letter_headers(record, "unparsable", "x" * 3000))
    assert headers["error"] == b"x" * 2000
    assert headers["error_reason"] == b"unparsable"
    assert (headers["source_topic"], headers["source_partition"], headers["source_offset"]) == (
        b"in",
        b"2",
        b"41",
    )
