"""The serial scale: its lines as whole grams, and the reader on a real (pseudo-)terminal line."""

from __future__ import annotations

import os
import threading
import time

import pytest

from terminals.scale import DEFAULT_BAUD, Scale, grams, split_spec


@pytest.mark.parametrize(("line", "expected"), [
    ("ST,GS,+  1.234 kg", 1234),
    ("ST,NT,+0001.234kg\r", 1234),
    ("ST,+00000.350  kg", 350),
    ("1234 g", 1234),
    ("  612g  ", 612),
    ("0.0005 kg", 1),  # half a gram rounds up
    ("0.0004 kg", 0),
    ("S S      100.00 g", 100),  # Mettler-Toledo SICS, stable
    ("+ 2.000 lb", 907),  # 907.18474 g
    ("ST,GS,+ 16.0 oz", 454),
    ("0.000 kg", 0),
])
def test_a_stable_reading_is_whole_grams(line, expected):
    assert grams(line) == expected


@pytest.mark.parametrize("line", [
    "US,GS,+  1.234 kg",  # unstable: the box is still moving
    "OL,GS,+  9.999 kg",  # overload
    "ST,TR,+  0.100 kg",  # the tare, not a weight
    "S D      100.00 g",  # SICS dynamic
    "ST,GS,-  0.020 kg",  # below zero
    "1234",  # no unit
    "1.2.3 kg",
    "",
    "\x00\x13 garbage",
])
def test_anything_else_is_not_a_weight(line):
    assert grams(line) is None


def test_a_port_may_carry_its_baud_rate():
    assert split_spec("/dev/ttyUSB0") == ("/dev/ttyUSB0", DEFAULT_BAUD)
    assert split_spec("/dev/ttyUSB0:4800") == ("/dev/ttyUSB0", 4800)


def test_the_reader_passes_each_new_stable_weight_off_a_serial_line():
    master, slave = os.openpty()
    got: list[int] = []
    stop = threading.Event()
    reader = threading.Thread(
        target=Scale(os.ttyname(slave)).run, args=(got.append, stop.is_set))
    reader.start()
    try:
        # A streaming scale: the same reading over and over (the reader may open the line in
        # the middle of one), unstable ones while it settles, a line split across two writes.
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            os.write(master, b"0 kg\r\nST,GS,+  0.500 kg\r\n")
            time.sleep(0.05)
        # Each write ends in the first part of a line; it is read with the stable reading before
        # it, which the test waits to see passed on before writing the line's rest.
        def then(chunk: bytes, weight: int) -> None:
            os.write(master, chunk)
            deadline = time.monotonic() + 10
            while weight not in got:
                assert time.monotonic() < deadline, f"{weight} g never came: {got}"
                time.sleep(0.01)

        then(b"ST,GS,+  0.700 kg\r\nUS,GS,+  0.8", 700)
        then(b"10 kg\r\nST,GS,+  0.750 kg\r\nST,GS,+  0.8", 750)
        os.write(master, b"20 kg\r\n820 g\r\n1200 g\n")  # 820 again: not a new weight
        deadline = time.monotonic() + 10
        while len(got) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(5)
        os.close(master)
        os.close(slave)
    assert got == [500, 700, 750, 820, 1200]
    assert not reader.is_alive()


def test_a_port_that_is_not_there_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="ttyNONE"):
        Scale(str(tmp_path / "ttyNONE")).run(lambda g: None, lambda: True)
