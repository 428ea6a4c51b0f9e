"""Labels against a real tote serve: preview, save, print to a PDF file (barcode read back), ZPL."""

from __future__ import annotations

import socket
import threading

import pytest
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter

from labels import verify
from tests.desktop.conftest import screenshot
from tests.harness import cod
from tests.integration.test_shipping import pick_and_pack, ready_order

pytestmark = pytest.mark.qt


@pytest.fixture
def packed_order(tote, admin, shop):  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)
    return order.order_id, pick_and_pack(tote, order.order_id, units=1)


def test_a_label_is_previewed_saved_and_printed_to_a_pdf_whose_barcode_reads_back(
        qtbot, console, packed_order, tmp_path) -> None:  # type: ignore[no-untyped-def]
    order_id, tracking = packed_order
    view = console.labels
    console.tabs.setCurrentWidget(view)
    view.order_id.setText(order_id)
    with qtbot.waitSignal(console.controller.label_loaded, timeout=15_000):
        view.load_button.click()
    assert view.document.status() == QPdfDocument.Status.Ready
    assert view.document.pageCount() >= 1 and view.print_button.isEnabled()
    screenshot(console, "labels")

    saved = tmp_path / "label.pdf"
    view.save(saved)
    assert tracking in {c.data for c in verify(saved.read_bytes())}

    printed = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    view.print_to(printer)
    assert tracking in {c.data for c in verify(printed.read_bytes())}


def test_zpl_goes_raw_to_the_printers_port(qtbot, console, packed_order) -> None:  # type: ignore[no-untyped-def]
    order_id, tracking = packed_order
    received = bytearray()
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def printer() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=printer, daemon=True)
    thread.start()
    try:
        view = console.labels
        view.order_id.setText(order_id)
        view.printer_address.setText(f"127.0.0.1:{port}")
        with qtbot.waitSignal(console.controller.zpl_sent, timeout=15_000) as sent:
            view.zpl_button.click()
        assert sent.args == [order_id, tracking]
        thread.join(10)
    finally:
        server.close()
    assert received.startswith(b"^XA") and tracking.encode() in received
