"""The packer's screen against a fake client, and the label printers."""

from __future__ import annotations

import os
import socket
import threading

import grpc
import pytest

from terminals.client import TerminalError
from terminals.packer.app import PackerApp
from terminals.printer import Printer, PrinterError
from terminals.scale import Scale
from tests.terminals.fake import SOAP_UNIT, FakePackClient, pack_list
from tests.terminals.helpers import text, until
from tote.v1 import common_pb2

SOAP = SOAP_UNIT[1]
TEA = ("TEA-9", "8901234567892", 2, "Assam tea")
OIL = ("OIL-2", "8901030865278", 1, "Coconut oil")


def packer(client: FakePackClient, target: str, scale: Scale | None = None) -> PackerApp:
    app = PackerApp(client, "FC1", Printer(target), scale=scale)
    app.bells = 0  # type: ignore[attr-defined]

    def bell() -> None:
        app.bells += 1  # type: ignore[attr-defined]

    app.bell = bell  # type: ignore[method-assign]
    return app


async def signed_in(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*"OP7", "enter")
    await until(pilot, lambda: text(pilot.app, "#step") == "SCAN TOTE OR ORDER")


async def scan_order(pilot, code: str = "O-42") -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*code, "enter")
    await until(pilot, lambda: text(pilot.app, "#step") != "LOOKING UP…")


async def pack(pilot, order_id: str = "O-42", weight: str = "600") -> None:  # type: ignore[no-untyped-def]
    await scan_order(pilot, order_id)
    await pilot.press(*SOAP, "enter", *weight, "enter", "enter")


async def test_a_packed_order_shows_its_tracking_number_and_its_label_is_in_the_folder(tmp_path):
    client = FakePackClient()
    app = packer(client, str(tmp_path / "labels"))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await pack(pilot)
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
        assert "PACKED O-42 · sandbox TRK000001" in text(app, "#feedback")
        assert text(app, "#step") == "SCAN TOTE OR ORDER"
    assert client.packed == [("O-42", 600, "M", "shp_O-42")]
    assert (tmp_path / "labels" / "TRK000001.pdf").read_bytes() == b"%PDF-1.7 x"


async def test_each_unit_is_checked_against_the_lines_and_counted_into_the_box(tmp_path):
    client = FakePackClient({"O-7": [pack_list("O-7", TEA, OIL, weight=850)]})
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in(pilot)
        await scan_order(pilot, "O-7")
        assert text(app, "#step") == "SCAN EACH UNIT INTO THE BOX"
        assert text(app, "#lines") == ("0/2 8901234567892 Assam tea\n"
                                       "0/1 8901030865278 Coconut oil")
        assert text(app, "#order") == "O-7 · 0/3 units"
        await pilot.press(*TEA[1], "enter")
        assert app.screen.query_one("#feedback").has_class("ok")
        assert text(app, "#feedback") == "✓ Assam tea · 1/2"
        assert text(app, "#order") == "O-7 · 1/3 units"
        await pilot.press(*SOAP, "enter")  # not in this shipment
        assert app.bells == 1 and app.screen.query_one("#feedback").has_class("bad")
        assert text(app, "#feedback") == f"NOT IN THIS BOX: {SOAP} is not in shipment shp_O-7"
        await pilot.press(*OIL[1], "enter")
        # A complete line moves below the ones still to pack.
        assert text(app, "#lines") == ("1/2 8901234567892 Assam tea\n"
                                       "1/1 8901030865278 Coconut oil")
        await pilot.press(*OIL[1], "enter")  # one more than was picked
        assert app.bells == 2
        assert text(app, "#feedback") == ("TOO MANY: all 1 × Coconut oil are in the box "
                                         "already; take this one out")
        assert text(app, "#order") == "O-7 · 2/3 units"
        await pilot.press(*"600", "enter")  # a weight typed too early is not a unit
        assert app.bells == 3 and text(app, "#step") == "SCAN EACH UNIT INTO THE BOX"
        await pilot.press(*TEA[1], "enter")
        assert text(app, "#step") == "WEIGHT (g) · items 850 g + box"
        assert "all 3 units are in the box" in text(app, "#feedback")
        await pilot.press(*"1100", "enter")
        assert text(app, "#feedback") == "1100 g · box S, M or L, then Enter"
        await pilot.press("enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
    assert client.packed == [("O-7", 1100, "M", "shp_O-7")]


async def test_a_box_with_a_unit_missing_is_set_aside_for_the_problem_desk_never_packed(tmp_path):
    client = FakePackClient({"O-7": [pack_list("O-7", TEA)]})
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await pilot.press("f3")  # no box yet: F3 does nothing
        assert app.bells == 0 and "NOT in the box" not in text(app, "#feedback")
        await scan_order(pilot, "O-7")
        await pilot.press(*TEA[1], "enter", "f3")
        assert "1 unit is NOT in the box" in text(app, "#feedback") and app.bells == 1
        assert text(app, "#step") == "SCAN EACH UNIT INTO THE BOX"
        await pilot.press(*SOAP, "enter", "f3")  # a scan in between asks again
        assert text(app, "#step") == "SCAN EACH UNIT INTO THE BOX"
        await pilot.press("f3")
        assert "SET ASIDE O-7" in text(app, "#feedback")
        assert "problem-solving desk" in text(app, "#feedback")
        assert text(app, "#step") != "SCAN EACH UNIT INTO THE BOX"
        assert not text(app, "#step").startswith("WEIGHT")
    assert client.packed == []  # nothing was sent: the customer is not charged for a short box


async def test_a_totes_shipments_are_packed_one_after_another(tmp_path):
    client = FakePackClient({"pt_9": [
        pack_list("O-1", TEA, shipment_id="shp_a"),
        pack_list("O-0", SOAP_UNIT, shipment_id="shp_old", status="packed"),
        pack_list("O-2", OIL, shipment_id="shp_b")]})
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await scan_order(pilot, "pt_9")
        assert text(app, "#order") == "O-1 · 0/2 units · +1 in tote"
        await pilot.press(*OIL[1], "enter")  # the other order's unit: not this box
        assert "NOT IN THIS BOX" in text(app, "#feedback")
        await pilot.press(*TEA[1], "enter", *TEA[1], "enter", *"500", "enter", "enter")
        await until(pilot, lambda: "PACKED O-1" in text(app, "#feedback"))
        assert "next in this tote: O-2" in text(app, "#feedback")
        assert text(app, "#order") == "O-2 · 0/1 unit"
        await pilot.press(*OIL[1], "enter", *"300", "enter", "S", "enter")
        await until(pilot, lambda: "PACKED O-2" in text(app, "#feedback"))
        assert text(app, "#step") == "SCAN TOTE OR ORDER"
    assert client.packed == [("O-1", 500, "M", "shp_a"), ("O-2", 300, "S", "shp_b")]


async def test_an_unknown_code_or_nothing_ready_says_so_and_waits_for_another_scan(tmp_path):
    client = FakePackClient({"O-9": [pack_list("O-9", TEA, status="packed")]})
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await scan_order(pilot, "O-404")
        assert text(app, "#feedback") == "no order 'O-404'\nnext: scan the tote or order again"
        assert text(app, "#step") == "SCAN TOTE OR ORDER" and app.bells == 1
        await scan_order(pilot, "O-9")
        assert text(app, "#feedback") == ("nothing to pack in O-9 (shp_O-9 packed)\n"
                                         "next: scan another tote or order")
        assert app.bells == 2
        client.fail = TerminalError("server unreachable (unavailable)",
                                    grpc.StatusCode.UNAVAILABLE)
        await scan_order(pilot, "O-9")
        assert "server unreachable" in text(app, "#feedback")
    assert client.packed == []


async def test_a_weight_without_its_unit_is_refused_at_once_and_kilograms_are_grams(tmp_path):
    client = FakePackClient()
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await scan_order(pilot)
        await pilot.press(*SOAP, "enter", *"1.5", "enter")
        assert app.bells == 1 and "say the unit: 1.5 kg" in text(app, "#feedback")
        assert text(app, "#step") == "WEIGHT (g) · items 700 g + box"
        await pilot.press(*"0.75 kg", "enter")
        assert text(app, "#feedback") == "750 g · box S, M or L, then Enter"
        await pilot.press("enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
    assert client.packed == [("O-42", 750, "M", "shp_O-42")]


async def test_a_refusal_shows_the_servers_words_and_the_next_step(tmp_path):
    client = FakePackClient()
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await signed_in(pilot)
        client.fail = None
        await scan_order(pilot)
        client.fail = TerminalError("weight 600 g is off the expected 950 g by more than 10%",
                                    grpc.StatusCode.FAILED_PRECONDITION)
        await pilot.press(*SOAP, "enter", *"600", "enter", "enter")
        await until(pilot, lambda: "server refused" in text(app, "#feedback"))
        assert "expected 950 g" in text(app, "#feedback")
        assert "next: weigh again" in text(app, "#feedback")
        assert text(app, "#step").startswith("WEIGHT") and app.bells == 1
        client.fail = None
        await pilot.press(*"950", "enter", "enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
    assert client.packed == [("O-42", 950, "M", "shp_O-42")]


async def test_an_unreachable_server_keeps_the_order_to_pack_again(tmp_path):
    client = FakePackClient()
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await scan_order(pilot)
        client.fail = TerminalError("server unreachable (unavailable)",
                                    grpc.StatusCode.UNAVAILABLE)
        await pilot.press(*SOAP, "enter", *"600", "enter", "enter")
        await until(pilot, lambda: "try again" in text(app, "#feedback"))
        assert text(app, "#step") == "BOX (S / M / L)"
        client.fail = None
        await pilot.press("enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
    assert client.packed == [("O-42", 600, "M", "shp_O-42")]


async def test_a_label_the_printer_did_not_take_is_said_after_the_tracking_number(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = packer(FakePackClient(), str(blocker))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await pack(pilot)
        await until(pilot, lambda: "NOT printed" in text(app, "#feedback"))
        assert "TRK000001" in text(app, "#feedback")


async def test_the_scale_on_a_serial_line_fills_the_weight_and_typing_still_works(tmp_path):
    master, slave = os.openpty()
    client = FakePackClient({"O-42": [pack_list("O-42", SOAP_UNIT)],
                             "O-43": [pack_list("O-43", SOAP_UNIT)]})
    app = packer(client, str(tmp_path), Scale(os.ttyname(slave)))
    try:
        async with app.run_test(size=(40, 16)) as pilot:
            await signed_in(pilot)
            for _ in range(200):  # a scale streams its reading; the port opens at some point
                os.write(master, b"US,GS,+  0.200 kg\r\nST,GS,+  0.612 kg\r\n")
                await pilot.pause(0.05)
                if "scale 612 g" in text(app, "#title"):
                    break
            assert "scale 612 g" in text(app, "#title")
            await scan_order(pilot)
            await pilot.press(*SOAP, "enter")
            entry = app.screen.query_one("#entry")
            assert entry.value == "612"  # the weight field filled itself
            os.write(master, b"ST,GS,+  0.615 kg\r\n")  # the box settles
            await until(pilot, lambda: entry.value == "615")
            await pilot.press("enter", "enter")
            await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
            await scan_order(pilot, "O-43")
            await pilot.press(*SOAP, "enter")
            await pilot.press(*"640", "enter", "enter")  # typed over the scale's reading
            await until(pilot, lambda: "PACKED O-43" in text(app, "#feedback"))
    finally:
        os.close(master)
        os.close(slave)
    assert client.packed == [("O-42", 615, "M", "shp_O-42"), ("O-43", 640, "M", "shp_O-43")]


async def test_a_scale_that_cannot_be_opened_leaves_typed_weights(tmp_path):
    app = packer(FakePackClient(), str(tmp_path), Scale(str(tmp_path / "ttyNONE")))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await until(pilot, lambda: "type the weight instead" in text(app, "#feedback"))
        assert "ttyNONE" in text(app, "#feedback")
        await pack(pilot)
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))


def label() -> common_pb2.Label:
    return common_pb2.Label(tracking_number="TRK1", format=common_pb2.LABEL_FORMAT_ZPL,
                            content=b"^XA^FDhello^FS^XZ")


def test_a_zpl_printer_gets_the_label_bytes_on_its_raw_socket():
    got: list[bytes] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def accept() -> None:
            conn, _ = server.accept()
            with conn:
                got.append(b"".join(iter(lambda: conn.recv(4096), b"")))

        thread = threading.Thread(target=accept)
        thread.start()
        assert Printer(f"zpl:127.0.0.1:{port}").print(label()) == f"zpl:127.0.0.1:{port}"
        thread.join(10)
    assert got == [b"^XA^FDhello^FS^XZ"]


def test_a_cups_queue_gets_the_label_through_lp(tmp_path, monkeypatch):
    fake_lp = tmp_path / "lp"
    fake_lp.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/data\n')
    fake_lp.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert Printer("lp:dock-2").print(label()) == "lp:dock-2"
    assert (tmp_path / "args").read_text() == "-d dock-2\n"
    assert (tmp_path / "data").read_bytes() == b"^XA^FDhello^FS^XZ"


def test_a_zpl_printer_that_does_not_answer_is_a_printer_error():
    with pytest.raises(PrinterError, match="zpl:127.0.0.1:1"):
        Printer("zpl:127.0.0.1:1").print(label())


async def test_a_gtin_scanned_once_the_box_is_full_is_one_too_many_even_when_it_reads_as_grams(
        tmp_path):
    client = FakePackClient()
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await signed_in(pilot)
        await scan_order(pilot)
        # A GTIN-8 with leading zeros: as a number, 123 457 — a weight the old packer took.
        await pilot.press(*SOAP, "enter", *"00123457", "enter")
        assert app.bells == 1 and text(app, "#feedback").startswith(
            "ONE TOO MANY: the 1 unit is in the box already; take 00123457 out")
        assert text(app, "#step") == "WEIGHT (g) · items 700 g + box"
        await pilot.press(*"600", "enter", "enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
    assert client.packed == [("O-42", 600, "M", "shp_O-42")]
