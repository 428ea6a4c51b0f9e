"""An order no single FC can serve ships from two FCs: two parcels, two tracking numbers,
each picked, packed and handed off on its own; one capture when the last parcel is packed."""

from __future__ import annotations

import grpc

from core.persistence.db import Database
from core.service import check
from tests.harness import Client, card, ledger, sandbox_card, unique
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2, shipping_pb2

PROCESSING, CANCELLED = pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED


def _pick_all(client: Client, fc_id: str) -> None:
    while True:
        try:
            task = client.fulfillment.NextPickTask(
                fulfillment_pb2.NextPickTaskRequest(fc_id=fc_id), metadata=client.metadata)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.NOT_FOUND
            return
        for line in task.lines:
            for i in range(line.quantity - line.picked):
                client.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                    task_id=task.task_id, barcode=line.gtin, scan_id=f"{line.line_id}-{i}"),
                    metadata=client.metadata)


def _pack(client: Client, order_id: str, shipment: pb.Shipment) -> pb.Order:
    units = sum(line.quantity for line in shipment.lines)
    return client.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
        order_id=order_id, shipment_id=shipment.shipment_id, weight_grams=units * 350 + 150,
        box="S"), metadata=client.metadata, timeout=60).order


def _hand_off(client: Client, tracking: str) -> None:
    client.shipping.HandOff(shipping_pb2.HandOffRequest(
        carrier="sandbox", tracking_numbers=[tracking]), metadata=client.metadata)


def test_a_split_order_ships_from_two_fcs_with_two_tracking_numbers(tote, admin, shop):
    admin.fc("FC-DEL", 28.6, 77.2)
    sku = unique("SPLIT")
    admin.product(sku)
    admin.receive("FC-BLR", sku, 2)
    admin.receive("FC-DEL", sku, 2)
    placed = shop.place([(sku, 3)], card(sandbox_card(tote.sandbox_url)))
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    order = admin.get(order.order_id)
    assert sorted(s.fc_id for s in order.shipments) == ["FC-BLR", "FC-DEL"]
    assert sum(line.quantity for s in order.shipments for line in s.lines) == 3

    blr = tote.client(tote.token("picker", "p-blr", "FC-BLR"))
    dock = tote.client(tote.token("supervisor", "dock"))
    by_fc = {s.fc_id: s for s in order.shipments}

    # The first parcel is picked, packed and handed off while the other is still waiting.
    _pick_all(blr, "FC-BLR")
    first = _pack(blr, order.order_id, by_fc["FC-BLR"])
    assert first.status == pb.ORDER_STATUS_PICKING  # one parcel of two is packed
    assert not [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "capture"]
    first_tracking = next(s.tracking_number for s in first.shipments if s.fc_id == "FC-BLR")
    _hand_off(dock, first_tracking)
    assert admin.get(order.order_id).status == pb.ORDER_STATUS_PICKING

    # The second parcel: packing it takes the payment once, for everything.
    dl = tote.client(tote.token("picker", "p-del", "FC-DEL"))
    _pick_all(dl, "FC-DEL")
    last = _pack(dl, order.order_id, by_fc["FC-DEL"])
    trackings = {s.fc_id: s.tracking_number for s in last.shipments}
    assert len(set(trackings.values())) == 2 and all(trackings.values())
    captures = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "capture"]
    assert [c["amount_minor"] for c in captures] == [order.total.amount_minor]
    _hand_off(dock, trackings["FC-DEL"])
    assert admin.get(order.order_id).status == pb.ORDER_STATUS_SHIPPED

    db = Database(tote.db_url)
    try:
        assert db.run_read(check.findings) == []
    finally:
        db.dispose()
    for client in (blr, dl, dock):
        client.close()
