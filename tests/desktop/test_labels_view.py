"""Labels against a real tote serve: preview, save, print to a PDF file (barcode read back), ZPL."""

from __future__ import annotations

import io
import socket
import threading

import pypdfium2 as pdfium
import pytest
from PySide6.QtCore import Qt
from PySide6.QtPdf import QPdfDocument
from reportlab.pdfgen import canvas

from desktop.labels_view import DOCUMENTS
from desktop.models import WaveModel
from desktop.pdf import merge_pdfs
from labels import verify
from labels.verify import PDFIUM_LOCK
from tests.desktop.conftest import print_to_file, screenshot
from tests.harness import cod
from tests.integration.test_shipping import pick_and_pack, ready_order
from tote.v1 import common_pb2, fulfillment_pb2

pytestmark = pytest.mark.qt


def test_wave_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = WaveModel()
    model.set_rows([common_pb2.Order(order_id="ord_1", fc_id="FC-BLR", carrier="sandbox",
                                     tracking_number="TT1", customer_id="cust-1",
                                     status=common_pb2.ORDER_STATUS_PACKED)])
    qtmodeltester.check(model)
    assert model.index(0, WaveModel.COL_TRACKING).data() == "TT1"


def test_merged_pdfs_keep_every_page_in_order() -> None:
    one, two = (_one_page_pdf(text) for text in ("first", "second"))
    merged = merge_pdfs([one, two, one])
    with PDFIUM_LOCK:  # the console's workers may be in PDFium too
        doc = pdfium.PdfDocument(merged)
        try:
            texts = [doc[i].get_textpage().get_text_range().strip() for i in range(len(doc))]
        finally:
            doc.close()
    assert texts == ["first", "second", "first"]


def _one_page_pdf(text: str) -> bytes:
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=(200, 100))
    c.drawString(20, 50, text)
    c.save()
    return out.getvalue()


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
    assert view.document.pageCount() >= 1 and view.pane.print_button.isEnabled()
    screenshot(console, "labels")

    saved = tmp_path / "label.pdf"
    view.save(saved)
    assert tracking in {c.data for c in verify(saved.read_bytes())}

    printed = tmp_path / "printed.pdf"
    assert print_to_file(qtbot, view.pane, printed) == view.document.pageCount()
    assert f"Printed Label {tracking}" in view.result.text()
    assert tracking in {c.data for c in verify(printed.read_bytes())}

    # A reprint is the same label fetched again.
    with qtbot.waitSignal(console.controller.label_loaded, timeout=15_000) as again:
        view.load_button.click()
    assert again.args[1].tracking_number == tracking


def test_a_waves_labels_are_fetched_with_progress_into_one_pdf_one_label_per_page(
        qtbot, console, tote, admin, shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    wave = []
    for _ in range(3):
        order, _ = ready_order(tote, admin, shop, cod(), units=1)
        wave.append((order.order_id, pick_and_pack(tote, order.order_id, units=1)))
    view = console.labels
    console.tabs.setCurrentWidget(view)
    ids = [order_id for order_id, _ in wave]

    def tracking_shown() -> bool:
        return all(view.wave.find(i) >= 0 and view.wave.index(
            view.wave.find(i), WaveModel.COL_TRACKING).data() == t for i, t in wave)

    # Listed live, with their carrier and tracking number, from the pack events (GetOrder)…
    qtbot.waitUntil(tracking_shown, timeout=15_000)
    # … which an F5's ListOrders (it carries no parcels) does not wipe out.
    with qtbot.waitSignal(console.controller.orders_loaded, timeout=10_000):
        qtbot.keyClick(console, Qt.Key.Key_F5)
    assert tracking_shown()
    view.select_orders(ids)
    assert view.selected_order_ids() == sorted(ids, key=lambda i: view.wave.find(i))
    assert view.batch_button.text() == "Labels of selected (3)"
    progress: list[tuple[int, int]] = []
    console.controller.batch_progress.connect(lambda done, total, _i: progress.append(
        (done, total)))
    with qtbot.waitSignal(console.controller.batch_ready, timeout=20_000) as ready:
        view.batch_button.click()
        assert not view.batch_button.isEnabled() and view.progress.isVisible()
    assert progress == [(1, 3), (2, 3), (3, 3)]
    batch = ready.args[0]
    assert batch.failed == [] and sorted(batch.tracking_numbers) == sorted(t for _, t in wave)
    assert view.document.pageCount() == 3 and not view.progress.isVisible()
    assert view.pane.page.isVisible()
    screenshot(console, "labels_wave")

    printed = tmp_path / "wave.pdf"
    assert print_to_file(qtbot, view.pane, printed) == 3
    pages = {}
    for code in verify(printed.read_bytes()):
        pages.setdefault(code.page, set()).add(code.data)
    # One label per page, in the order the labels came.
    assert [next(t for t in batch.tracking_numbers if t in pages[p]) for p in range(3)] == \
        batch.tracking_numbers
    saved = tmp_path / "wave-saved.pdf"
    view.save(saved)
    assert {t for _, t in wave} <= {c.data for c in verify(saved.read_bytes())}


def test_a_batch_lists_orders_without_a_label_and_prints_the_rest(
        qtbot, console, packed_order, shop) -> None:  # type: ignore[no-untyped-def]
    order_id, tracking = packed_order
    view = console.labels
    with qtbot.waitSignal(console.controller.batch_ready, timeout=15_000) as ready:
        console.controller.load_label_batch(["ord_unknown", order_id])
    batch = ready.args[0]
    assert batch.tracking_numbers == [tracking]
    assert [i for i, _ in batch.failed] == ["ord_unknown"]
    assert batch.failed[0][1].startswith("NOT_FOUND")
    assert view.document.pageCount() == 1
    assert "1 without a label; ord_unknown: NOT_FOUND" in view.result.text()


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


@pytest.mark.parametrize("kind", [fulfillment_pb2.DOCUMENT_KIND_PICK_LIST,
                                  fulfillment_pb2.DOCUMENT_KIND_PACKING_SLIP])
def test_an_orders_pick_list_and_packing_slip_are_previewed_and_printed(
        qtbot, console, packed_order, shop, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    order_id, tracking = packed_order
    view = console.labels
    console.tabs.setCurrentWidget(view)
    view.order_id.setText(order_id)
    view.kind.setCurrentIndex(view.kind.findData(kind))
    with qtbot.waitSignal(console.controller.document_loaded, timeout=15_000) as loaded:
        view.load_button.click()
    assert loaded.args[:2] == [order_id, kind]
    name = DOCUMENTS[kind]
    assert view.pane.has_pdf() and view.pane.caption.text() == f"{name} — {order_id}"
    assert view.pane.filename.endswith(".pdf")
    # An A4 page fits the pane; "Fit width" makes it readable across the pane's width.
    fitted = view.pane.page_image.pixmap().width()
    view.pane.fit_width.setChecked(True)
    assert view.pane.page_image.pixmap().width() > fitted
    screenshot(console, f"labels_{name.lower().replace(' ', '_')}")
    view.pane.fit_width.setChecked(False)
    # Packed orders listed before this console started show their parcels too (GetOrder once).
    qtbot.waitUntil(lambda: all(view.wave.index(r, WaveModel.COL_TRACKING).data()
                                for r in range(view.wave.rowCount())), timeout=10_000)
    printed = tmp_path / "document.pdf"
    assert print_to_file(qtbot, view.pane, printed) == view.document.pageCount()
    read = {c.data for c in verify(printed.read_bytes())}
    # The pick list is the parcel's (shipment id and the items' GTINs), the slip the order's.
    assert (shop.get(order_id).shipments[0].shipment_id
            if kind == fulfillment_pb2.DOCUMENT_KIND_PICK_LIST else order_id) in read
    # The document the server drew (the print is a raster of it).
    text = _text_of(view.pane.content)
    assert text.startswith(name.upper())
    if kind == fulfillment_pb2.DOCUMENT_KIND_PACKING_SLIP:
        assert tracking in text


def test_a_packing_slip_before_packing_shows_the_servers_refusal(
        qtbot, console, tote, admin, shop) -> None:  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    order, _ = ready_order(tote, admin, shop, cod(), units=1)  # PROCESSING: nothing packed
    view = console.labels
    shown = view.pane.content
    view.order_id.setText(order.order_id)
    view.kind.setCurrentIndex(view.kind.findData(fulfillment_pb2.DOCUMENT_KIND_PACKING_SLIP))
    with qtbot.waitSignal(console.controller.error, timeout=15_000) as error:
        view.load_button.click()
    assert error.args[0].startswith("FAILED_PRECONDITION")
    assert view.result.text().startswith("Failed — FAILED_PRECONDITION")
    assert view.pane.content == shown  # what was shown stays


def _text_of(pdf: bytes) -> str:
    with PDFIUM_LOCK:  # the console's workers may be in PDFium too
        doc = pdfium.PdfDocument(pdf)
        try:
            return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        finally:
            doc.close()
