"""The packer's screen against a fake client, and the label printers."""

from __future__ import annotations

import socket
import threading

import grpc
import pytest

from terminals.client import TerminalError
from terminals.packer.app import PackerApp
from terminals.printer import Printer, PrinterError
from tests.terminals.fake import FakePackClient
from tests.terminals.helpers import text, until
from tote.v1 import common_pb2


def packer(client: FakePackClient, target: str) -> PackerApp:
    app = PackerApp(client, "FC1", Printer(target))
    app.bells = 0  # type: ignore[attr-defined]

    def bell() -> None:
        app.bells += 1  # type: ignore[attr-defined]

    app.bell = bell  # type: ignore[method-assign]
    return app


async def pack(pilot, order_id: str = "O-42", weight: str = "600") -> None:  # type: ignore[no-untyped-def]
    await pilot.press(*order_id, "enter", *weight, "enter", "enter")


async def test_a_packed_order_shows_its_tracking_number_and_its_label_is_in_the_folder(tmp_path):
    client = FakePackClient()
    app = packer(client, str(tmp_path / "labels"))
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: text(app, "#step") == "SCAN ORDER")
        await pack(pilot)
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
        assert "PACKED O-42 · sandbox TRK000001" in text(app, "#feedback")
        assert text(app, "#step") == "SCAN ORDER"
    assert client.packed == [("O-42", 600, "M")]
    assert (tmp_path / "labels" / "TRK000001.pdf").read_bytes() == b"%PDF-1.7 x"


async def test_a_weight_that_is_not_grams_is_refused_at_once(tmp_path):
    app = packer(FakePackClient(), str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: text(app, "#step") == "SCAN ORDER")
        await pilot.press(*"O-1", "enter", *"1.5kg", "enter")
        assert app.bells == 1 and "whole grams" in text(app, "#feedback")
        assert text(app, "#step") == "WEIGHT (grams)"


async def test_a_refusal_shows_the_servers_words_and_the_next_step(tmp_path):
    client = FakePackClient()
    client.fail = TerminalError("weight 600 g is off the expected 950 g by more than 10%",
                                grpc.StatusCode.FAILED_PRECONDITION)
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: text(app, "#step") == "SCAN ORDER")
        await pack(pilot)
        await until(pilot, lambda: "server refused" in text(app, "#feedback"))
        assert "expected 950 g" in text(app, "#feedback")
        assert "next: weigh again" in text(app, "#feedback")
        assert text(app, "#step") == "WEIGHT (grams)" and app.bells == 1
        client.fail = None
        await pilot.press(*"950", "enter", "enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))
    assert client.packed == [("O-42", 950, "M")]


async def test_an_unreachable_server_keeps_the_order_to_pack_again(tmp_path):
    client = FakePackClient()
    client.fail = TerminalError("server unreachable (unavailable)", grpc.StatusCode.UNAVAILABLE)
    app = packer(client, str(tmp_path))
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: text(app, "#step") == "SCAN ORDER")
        await pack(pilot)
        await until(pilot, lambda: "try again" in text(app, "#feedback"))
        assert text(app, "#step") == "BOX (S / M / L)"
        client.fail = None
        await pilot.press("enter")
        await until(pilot, lambda: "PACKED" in text(app, "#feedback"))


async def test_a_label_the_printer_did_not_take_is_said_after_the_tracking_number(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = packer(FakePackClient(), str(blocker))
    async with app.run_test(size=(40, 16)) as pilot:
        await pilot.press(*"OP7", "enter")
        await until(pilot, lambda: text(app, "#step") == "SCAN ORDER")
        await pack(pilot)
        await until(pilot, lambda: "NOT printed" in text(app, "#feedback"))
        assert "TRK000001" in text(app, "#feedback")


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
