"""The demo's printer: whole lines to a file or a pipe, cut to the width only on a terminal."""

from __future__ import annotations

import io

from demo.report import Console

DETAIL = ("Order_Ready_for_Fulfillment  inventory soft-locked at FC-BLR, card hold auth_01 for "
          "₹2,541.00; routed to FC-BLR")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as sys.stdout does in a shell."""

    def isatty(self) -> bool:
        return True


def test_an_event_line_written_to_a_file_or_pipe_is_never_cut(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal elsewhere must not matter
    out = io.StringIO()
    console = Console(out)
    console.line(DETAIL, "32")
    console.status({"PENDING": 3, "DELIVERED": 12})
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(DETAIL) and "routed to FC-BLR" in lines[0]
    assert "\x1b" not in out.getvalue()  # no colours in a file either
    assert lines[1].endswith("[PENDING 3 · PROCESSING 0 · PICKING 0 · PACKED 0 · SHIPPED 0 · "
                             "DELIVERED 12 · CANCELLED 0]")


def test_on_a_terminal_a_line_is_cut_to_its_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    out = Terminal()
    console = Console(out)
    console.line(DETAIL, "32")
    printed = out.getvalue().removeprefix("\x1b[32m").removesuffix("\x1b[0m\n")
    assert len(printed) == 39 and printed.endswith("…")
    assert DETAIL.startswith(printed.split("s  ", 1)[1].removesuffix("…"))
