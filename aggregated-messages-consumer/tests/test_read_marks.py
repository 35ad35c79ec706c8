"""Which read marks are written, without Firestore."""

from consumer_testing import make_burst, read_mark_of

from aggregated_consumer.read_marks import WrittenMarks


def test_a_mark_behind_or_equal_to_the_one_written_is_dropped() -> None:
    burst = make_burst(3)
    newest = read_mark_of(burst, "2")
    first = burst.list_of_messages[0]
    older = newest.model_copy(update={"up_to": first.time, "up_to_iso": first.time_iso})
    marks = WrittenMarks()
    assert marks.admit(older)
    assert marks.admit(newest)
    assert not marks.admit(older)  # a retried flush, late
    assert not marks.admit(newest)  # a duplicate
    assert marks.admit(read_mark_of(burst, "1"))  # another reader of the chat


def test_only_the_most_recently_marked_readers_are_remembered() -> None:
    bursts = [make_burst(1) for _ in range(3)]
    marks = WrittenMarks(size=2)
    for burst in bursts:
        assert marks.admit(read_mark_of(burst, "2"))
    assert marks.admit(read_mark_of(bursts[0], "2"))  # forgotten: written again
    assert not marks.admit(read_mark_of(bursts[2], "2"))
