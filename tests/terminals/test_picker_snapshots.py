"""What the picker looks like on a 40×16 handheld, an 80×24 terminal and a 120×40 one (SVGs in
__snapshots__)."""

from __future__ import annotations

import grpc
import pytest

from terminals.client import TerminalError
from terminals.picker.app import PickerApp
from tests.terminals.fake import FakeClient, task
from tests.terminals.helpers import sign_in, until

SIZES = [(40, 16), (80, 24), (120, 40)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]
LINES = (("SOAP-1", "4006381333931", "A-01-1", 2,
          "Mysore Sandal Soap, classic sandalwood bar, 4 × 125 g"),
         ("TEA-9", "8901234567892", "B-04-2", 1, "Assam tea, loose leaf, 250 g"))


def picker(**kwargs) -> PickerApp:  # type: ignore[no-untyped-def]
    return PickerApp(FakeClient(task(*LINES, **kwargs)), "FC-BLR")


sizes = pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)


@sizes
def test_sign_in_screen(snap_compare, size):
    assert snap_compare(picker(), terminal_size=size)


@sizes
def test_pick_screen_after_a_right_scan(snap_compare, size):
    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press(*"4006381333931", "enter")
        await until(pilot, lambda: pilot.app.screen.waiting == 0)

    assert snap_compare(picker(), terminal_size=size, run_before=scan)


@sizes
def test_pick_screen_after_a_wrong_scan(snap_compare, size):
    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press(*"5000000000007", "enter")

    assert snap_compare(picker(), terminal_size=size, run_before=scan)


@sizes
def test_pick_screen_asking_for_the_bin_label_after_a_unit_scanned_first(snap_compare, size):
    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press(*"4006381333931", "enter")

    assert snap_compare(picker(confirm_bin_scan=True), terminal_size=size, run_before=scan)


@sizes
def test_pick_screen_offline_with_every_unit_scanned(snap_compare, monkeypatch, size):
    monkeypatch.setattr("terminals.picker.screens.RETRY_S", 0.05)
    app = PickerApp(FakeClient(task(LINES[1])), "FC-BLR")

    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        app.client.fail = TerminalError("server unreachable (unavailable)",
                                        grpc.StatusCode.UNAVAILABLE)
        await pilot.press(*"8901234567892", "enter")
        await until(pilot, lambda: app.screen.offline)

    assert snap_compare(app, terminal_size=size, run_before=scan)


@sizes
def test_short_pick_dialog(snap_compare, size):
    async def short(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press("f2")
        await until(pilot, lambda: pilot.app.screen.query("#missing"))

    assert snap_compare(picker(), terminal_size=size, run_before=short)
