"""What the packer looks like on a 40×16 handheld, an 80×24 terminal and a 120×40 one (SVGs in
__snapshots__)."""

from __future__ import annotations

import grpc
import pytest

from terminals.client import TerminalError
from terminals.packer.app import PackerApp
from terminals.printer import Printer
from tests.terminals.fake import FakePackClient, pack_list
from tests.terminals.helpers import text, until

SIZES = [(40, 16), (80, 24), (120, 40)]
sizes = pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
SOAP = ("SOAP-1", "4006381333931", 2, "Mysore Sandal Soap, classic sandalwood bar, 4 × 125 g")
TEA = ("TEA-9", "8901234567892", 1, "Assam tea, loose leaf, 250 g")
OIL = ("OIL-2", "8901030865278", 1, "Coconut oil, cold pressed, 500 ml")


def packer(folder, fail: TerminalError | None = None) -> PackerApp:  # type: ignore[no-untyped-def]
    client = FakePackClient({
        "pt_01TOTE": [pack_list("ord_01ABC", SOAP, TEA, OIL, shipment_id="shp_01A", weight=1350),
                      pack_list("ord_01XYZ", TEA, shipment_id="shp_01X", weight=260)]})
    client.fail = fail
    return PackerApp(client, "FC-BLR", Printer(str(folder)))


async def units_scanned(pilot) -> None:  # type: ignore[no-untyped-def]
    """Signed in, the tote scanned, one right unit and one that is not in this box."""
    await pilot.press(*"OP9", "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN TOTE OR ORDER")
    await pilot.press(*"pt_01TOTE", "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN EACH UNIT INTO THE BOX")
    await pilot.press(*SOAP[1], "enter", *TEA[1], "enter", *"5000000000007", "enter")


async def boxed(pilot) -> None:  # type: ignore[no-untyped-def]
    await units_scanned(pilot)
    await pilot.press(*SOAP[1], "enter", *OIL[1], "enter")
    await until(pilot, lambda: text(pilot.app, "#step").startswith("WEIGHT"))


@sizes
def test_pack_screen_checking_units_into_the_box(snap_compare, size, tmp_path):
    assert snap_compare(packer(tmp_path), terminal_size=size, run_before=units_scanned)


@sizes
def test_pack_screen_asking_for_the_weight(snap_compare, size, tmp_path):
    assert snap_compare(packer(tmp_path), terminal_size=size, run_before=boxed)


@sizes
def test_pack_screen_after_a_packed_order(snap_compare, size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the label's path on screen is the same every run

    async def pack(pilot):  # type: ignore[no-untyped-def]
        await boxed(pilot)
        await pilot.press(*"1600", "enter", "enter")
        await until(pilot, lambda: "PACKED" in text(pilot.app, "#feedback"))

    assert snap_compare(packer("labels"), terminal_size=size, run_before=pack)


@sizes
def test_pack_screen_after_a_refusal(snap_compare, size, tmp_path):
    async def pack(pilot):  # type: ignore[no-untyped-def]
        await boxed(pilot)
        pilot.app.client.fail = TerminalError(
            "the box weighs 100 g measured but 1600 g are expected (± 160 g): something is "
            "missing from the box; check it against the pick list and weigh again",
            grpc.StatusCode.FAILED_PRECONDITION)
        await pilot.press(*"100", "enter", "enter")
        await until(pilot, lambda: "refused" in text(pilot.app, "#feedback"))

    assert snap_compare(packer(tmp_path), terminal_size=size, run_before=pack)
