"""Carrier hand-off by typed scans against a real tote serve: flagged scans, then SHIPPED."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.client import ConsoleClient
from desktop.handoff_view import ManifestModel
from labels import verify
from tests.desktop.conftest import print_to_file, screenshot
from tests.harness import cod
from tests.integration.test_shipping import hand_off, pick_and_pack, ready_order
from tote.v1 import common_pb2

pytestmark = pytest.mark.qt


def test_manifest_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = ManifestModel()
    model.set_rows([common_pb2.Shipment(tracking_number="TT1", fc_id="FC-BLR",
                                        carrier="sandbox", status="packed")])
    qtmodeltester.check(model)
    assert model.index(0, ManifestModel.COL_CARRIER).data() == "sandbox"


def type_scan(qtbot, view, code: str) -> None:  # type: ignore[no-untyped-def]
    """As a scanner does: the characters, then Enter."""
    view.scan.setFocus()
    qtbot.keyClicks(view.scan, code)
    qtbot.keyClick(view.scan, Qt.Key.Key_Return)


def test_typed_scans_build_a_manifest_and_hand_off_ships_the_orders(
        qtbot, console, tote, admin, shop, tmp_path) -> None:  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    orders, parcels = [], []
    for _ in range(2):
        order, _sku = ready_order(tote, admin, shop, cod(), units=1)
        orders.append(order)
        parcels.append(pick_and_pack(tote, order.order_id, units=1))
    # A parcel that was packed but has already left on another manifest: not for this truck.
    gone_order, _sku = ready_order(tote, admin, shop, cod(), units=1)
    gone = pick_and_pack(tote, gone_order.order_id, units=1)
    assert hand_off(admin, gone).tracking_numbers == [gone]
    view = console.handoff
    console.tabs.setCurrentWidget(view)

    # The carrier chooser knows the carrier of the packed parcels (from the orders read).
    qtbot.waitUntil(lambda: "sandbox" in view.carrier.carriers(), timeout=10_000)
    assert "sandbox" in console.cod.carrier.carriers()

    # Another carrier's truck (typed: not yet known): the parcel is flagged, not added.
    view.carrier.setCurrentText("bluedart")
    with qtbot.waitSignal(console.controller.parcel_looked_up, timeout=10_000):
        type_scan(qtbot, view, parcels[0])
    assert view.model.rowCount() == 0
    assert "belongs to sandbox, not bluedart" in view.flags.item(0).text()

    view.carrier.setCurrentIndex(view.carrier.findText("sandbox"))
    for tracking in parcels:
        with qtbot.waitSignal(console.controller.parcel_looked_up, timeout=10_000):
            type_scan(qtbot, view, tracking)
    assert [view.model.row_at(r).tracking_number for r in range(2)] == parcels
    type_scan(qtbot, view, parcels[1])  # scanned twice
    assert view.flags.item(0).text() == f"{parcels[1]}: already on the manifest"
    with qtbot.waitSignal(console.controller.parcel_looked_up, timeout=10_000):
        type_scan(qtbot, view, "TT0000000000")
    assert "not a PACKED parcel" in view.flags.item(0).text()
    with qtbot.waitSignal(console.controller.parcel_looked_up, timeout=10_000):
        type_scan(qtbot, view, gone)
    assert view.flags.item(0).text().startswith(f"{gone}: not a PACKED parcel")
    assert view.model.rowCount() == 2
    screenshot(console, "hand_off")

    with qtbot.waitSignal(console.controller.handed_off, timeout=15_000) as handed:
        qtbot.mouseClick(view.close_button, Qt.MouseButton.LeftButton)
    assert view.model.rowCount() == 0
    assert "2 parcel(s) handed to sandbox" in view.result.text()
    for order in orders:
        assert shop.get(order.order_id).status == common_pb2.ORDER_STATUS_SHIPPED
    assert list(handed.args[0].tracking_numbers) == parcels

    # The manifest the driver signs is shown at once, and prints with its barcodes readable.
    manifest_id = handed.args[0].manifest_id
    assert view.pane.has_pdf() and manifest_id in view.pane.caption.text()
    screenshot(console, "hand_off_manifest")
    printed = tmp_path / "manifest.pdf"
    assert print_to_file(qtbot, view.pane, printed) == view.pane.document.pageCount()
    read = {c.data for c in verify(printed.read_bytes())}
    assert {manifest_id, *parcels} <= read
    assert "Printed Manifest" in view.result.text()

    # Reprinted later from the session's list: GetManifest brings the same PDF back.
    assert view.manifests.count() == 1
    shown = view.pane.content
    view.pane.show_pdf(b"", "nothing", "x.pdf")
    assert not view.pane.has_pdf()
    with qtbot.waitSignal(console.controller.manifest_loaded, timeout=10_000) as again:
        view.manifests.itemClicked.emit(view.manifests.item(0))
    assert again.args[0].manifest_id == manifest_id
    assert view.pane.has_pdf() and view.pane.content == shown


def test_a_scanned_parcel_is_found_on_any_page_of_packed_orders_and_shipped_ones_are_forgotten(
        tote, admin, shop, supervisor_token) -> None:  # type: ignore[no-untyped-def]
    admin.fc("FC-BLR")
    parcels: dict[str, str] = {}  # order id → tracking number, oldest first
    for _ in range(3):
        order, _sku = ready_order(tote, admin, shop, cod(), units=1)
        parcels[order.order_id] = pick_and_pack(tote, order.order_id, units=1)
    oldest, shipped, newest = parcels
    # Two PACKED orders a page: the oldest of these three is on a later page than the newest.
    client = ConsoleClient(tote.grpc_address, supervisor_token, page_size=2)
    try:
        for order_id in (newest, oldest, shipped):
            parcel = client.packed_parcel(parcels[order_id])
            assert parcel is not None and parcel.tracking_number == parcels[order_id]
        hand_off(admin, parcels[shipped])
        assert client.packed_parcel(parcels[shipped]) is None
        # What the client remembers of parcels is the PACKED orders' only: it does not grow
        # with every parcel that has left.
        assert shipped not in client._tracking_of
        assert {oldest, newest} <= set(client._tracking_of)
    finally:
        client.close()
