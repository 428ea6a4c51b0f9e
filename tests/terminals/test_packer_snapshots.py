"""What the packer looks like on a 40×16 handheld and an 80×24 terminal (SVGs in __snapshots__)."""

from __future__ import annotations

import grpc
import pytest

from terminals.client import TerminalError
from terminals.packer.app import PackerApp
from terminals.printer import Printer
from tests.terminals.fake import FakePackClient
from tests.terminals.helpers import text, until

SIZES = [(40, 16), (80, 24)]


def packer(folder, fail: TerminalError | None = None) -> PackerApp:  # type: ignore[no-untyped-def]
    client = FakePackClient()
    client.fail = fail
    return PackerApp(client, "FC-BLR", Printer(str(folder)))


async def signed_in(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*"OP9", "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN ORDER")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pack_screen_after_a_packed_order(snap_compare, size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the label's path on screen is the same every run
    async def pack(pilot):  # type: ignore[no-untyped-def]
        await signed_in(pilot)
        await pilot.press(*"ord_01ABC", "enter", *"600", "enter", "enter")
        await until(pilot, lambda: "PACKED" in text(pilot.app, "#feedback"))

    assert snap_compare(packer("labels"), terminal_size=size, run_before=pack)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_pack_screen_after_a_refusal(snap_compare, size, tmp_path):
    refusal = TerminalError("parcel weighs 100 g but its contents and box M should weigh "
                            "600 g (±10%): weigh it again", grpc.StatusCode.FAILED_PRECONDITION)

    async def pack(pilot):  # type: ignore[no-untyped-def]
        await signed_in(pilot)
        await pilot.press(*"ord_01ABC", "enter", *"100", "enter", "enter")
        await until(pilot, lambda: "refused" in text(pilot.app, "#feedback"))

    assert snap_compare(packer(tmp_path, refusal), terminal_size=size, run_before=pack)
