"""Counted nouns read as English: "1 unit", "2 units" — never "1 unit(s)"."""

from core.domain.words import count


def test_one_is_singular_and_every_other_count_plural():
    assert count(1, "unit") == "1 unit"
    assert [count(n, "short pick") for n in (0, 2)] == ["0 short picks", "2 short picks"]
    assert count(1, "settlement batch", "settlement batches") == "1 settlement batch"
    assert count(3, "settlement batch", "settlement batches") == "3 settlement batches"
