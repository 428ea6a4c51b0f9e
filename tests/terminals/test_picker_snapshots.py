"""What the picker looks like on a 40×16 handheld and an 80×24 terminal (SVGs in __snapshots__)."""

from __future__ import annotations

import pytest

from terminals.picker.app import PickerApp
from tests.terminals.fake import FakeClient, task
from tests.terminals.helpers import sign_in, until

SIZES = [(40, 16), (80, 24)]
LINES = (("SOAP-1", "4006381333931", "A-01-1", 2), ("TEA-9", "8901234567892", "B-04-2", 1))


def picker() -> PickerApp:
    return PickerApp(FakeClient(task(*LINES)), "FC-BLR")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sign_in_screen(snap_compare, size):
    assert snap_compare(picker(), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pick_screen_after_a_right_scan(snap_compare, size):
    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press(*"4006381333931", "enter")
        await until(pilot, lambda: pilot.app.screen.waiting == 0)

    assert snap_compare(picker(), terminal_size=size, run_before=scan)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pick_screen_after_a_wrong_scan(snap_compare, size):
    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press(*"5000000000007", "enter")

    assert snap_compare(picker(), terminal_size=size, run_before=scan)


def test_pick_screen_offline_with_every_unit_scanned(snap_compare, monkeypatch):
    import grpc

    from terminals.client import TerminalError

    monkeypatch.setattr("terminals.picker.screens.RETRY_S", 0.05)
    app = PickerApp(FakeClient(task(LINES[1])), "FC-BLR")

    async def scan(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        app.client.fail = TerminalError("server unreachable (unavailable)",
                                        grpc.StatusCode.UNAVAILABLE)
        await pilot.press(*"8901234567892", "enter")
        await until(pilot, lambda: app.screen.offline)

    assert snap_compare(app, terminal_size=(40, 16), run_before=scan)


def test_short_pick_dialog(snap_compare):
    async def short(pilot):  # type: ignore[no-untyped-def]
        await sign_in(pilot, "OP7")
        await pilot.press("f2")
        await until(pilot, lambda: pilot.app.screen.query("#missing"))

    assert snap_compare(picker(), terminal_size=(40, 16), run_before=short)
