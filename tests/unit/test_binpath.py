"""The picker's walk: bins parsed leniently and visited in serpentine order."""

from core.domain.binpath import natural_key, parse_bin, walk_order


def test_bin_labels_parse_as_aisle_bay_level():
    assert parse_bin("A-03-2") == (1, 3, 2)
    assert parse_bin(" b_12.1 ") == (2, 12, 1)
    assert parse_bin("C 7") == (3, 7, 0)
    assert parse_bin("AA-01-1") == (27, 1, 1)
    assert parse_bin("4-05-3") == (4, 5, 3)


def test_labels_that_are_not_aisle_bay_level_do_not_parse():
    for label in ("", "DOCK", "A1B-2", "A-1-2-3", "returns shelf 2 b", "Ä-1-1"):
        assert parse_bin(label) is None, label


def test_odd_aisles_are_walked_up_the_bays_and_even_aisles_down():
    bins = ["B-01-1", "A-10-1", "A-02-1", "B-09-1", "C-01-1", "B-09-2", "A-02-3"]
    assert walk_order(bins) == ["A-02-1", "A-02-3", "A-10-1",
                                "B-09-1", "B-09-2", "B-01-1", "C-01-1"]


def test_unparsed_bins_come_last_in_natural_order():
    bins = ["SHELF10", "A-01-1", "SHELF9", "", "dock"]
    assert walk_order(bins) == ["A-01-1", "", "dock", "SHELF9", "SHELF10"]
    assert natural_key("B9") < natural_key("B10")
