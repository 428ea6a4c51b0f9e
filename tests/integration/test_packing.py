"""Packing: the weight gate, the final capture, the carrier's tracking number and the label."""

import collections
import contextlib
import threading
import time

import grpc
import httpx
import pytest
from sqlalchemy import select

import labels
from core.persistence.db import Database
from core.persistence.fulfillment_models import Shipment
from tests.harness import (
    SandboxProcess,
    ToteServer,
    card,
    cod,
    free_port,
    ledger,
    sandbox_card,
    unique,
    upi,
)
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2, orders_pb2, shipping_pb2

PROCESSING, CANCELLED, PACKED = (pb.ORDER_STATUS_PROCESSING, pb.ORDER_STATUS_CANCELLED,
                                 pb.ORDER_STATUS_PACKED)


@pytest.fixture(scope="module")
def packer(tote, admin):  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("picker", "p1", "FC-BLR"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def supervisor(tote, admin):  # type: ignore[no-untyped-def]
    client = tote.client(tote.token("supervisor", "ops"))
    yield client
    client.close()


def pick(tote, client, order_id: str, short: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Pick FC-BLR's queue as a picker does (NextPickTask, ScanItem, ReportShortPick).

    `short` units of order_id are reported missing instead of scanned. Any error (UNIMPLEMENTED
    included) fails the test: there is no other way to pick.
    """
    left_short = short
    seen: set[str] = set()
    while True:
        try:
            task = client.fulfillment.NextPickTask(
                fulfillment_pb2.NextPickTaskRequest(fc_id="FC-BLR"), metadata=client.metadata)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            break
        assert task.task_id not in seen, f"task {task.task_id} offered again after its picking"
        seen.add(task.task_id)
        for line in task.lines:
            todo = line.quantity - line.picked - line.missing
            missing = min(left_short, todo) if line.order_id == order_id else 0
            for i in range(todo - missing):
                client.fulfillment.ScanItem(fulfillment_pb2.ScanItemRequest(
                    task_id=task.task_id, barcode=line.gtin, scan_id=f"{line.line_id}-{i}"),
                    metadata=client.metadata)
            if missing:
                reported = client.fulfillment.ReportShortPick(
                    fulfillment_pb2.ReportShortPickRequest(
                        task_id=task.task_id, line_id=line.line_id, missing=missing,
                        operator_id="p1"), metadata=client.metadata)
                assert reported.line.missing == missing
                left_short -= missing
    assert left_short == 0, f"{order_id} had fewer units to pick than the {short} reported short"


def _ready(tote, admin, shop, payment, units: int = 2, weight: int = 350,  # type: ignore[no-untyped-def]
           stock: int = 5):
    sku = unique("PACK")
    admin.product(sku, price_minor=49_900, weight_grams=weight)
    admin.receive("FC-BLR", sku, stock)
    placed = shop.place([(sku, units)], payment)
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    return sku, order


def _pack(client, order_id: str, weight: int, box: str = "M"):  # type: ignore[no-untyped-def]
    return client.fulfillment.PackOrder(fulfillment_pb2.PackOrderRequest(
        order_id=order_id, weight_grams=weight, box=box), metadata=client.metadata, timeout=60)


def _codes(pdf: bytes) -> set[str]:
    return {c.data for c in labels.verify(pdf)}


def test_card_order_is_packed_captured_and_labelled_with_the_tracking_number(
        tote, admin, shop, packer, supervisor):
    sku, order = _ready(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    pick(tote, packer, order.order_id)
    result = _pack(packer, order.order_id, 2 * 350 + 250 + 20)
    packed = result.order
    assert packed.status == PACKED
    assert packed.carrier == "sandbox" and packed.tracking_number.startswith("TT")
    assert packed.payment.state == "captured"
    assert packed.payment.captured.amount_minor == order.total.amount_minor
    assert [(s.status, s.tracking_number) for s in packed.shipments] == [
        ("packed", packed.tracking_number)]
    assert [(ln.sku, ln.quantity) for ln in packed.shipments[0].lines] == [(sku, 2)]
    assert result.label.format == pb.LABEL_FORMAT_PDF
    assert packed.tracking_number in _codes(result.label.content)

    captures = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "capture"]
    assert [c["amount_minor"] for c in captures] == [order.total.amount_minor]
    types = [e.type for e in shop.events(order.order_id, timeout_s=1)]
    assert types[-2:] == ["Payment_Captured", "Order_Packed"]
    # Picked units stay hard-locked until the parcel leaves with the carrier.
    assert admin.stock(sku)[:2] == (5, 0)

    pdf = supervisor.shipping.GetLabel(shipping_pb2.GetLabelRequest(
        order_id=order.order_id), metadata=supervisor.metadata)
    assert pdf.tracking_number == packed.tracking_number
    assert packed.tracking_number in _codes(pdf.content)
    zpl = supervisor.shipping.GetLabel(shipping_pb2.GetLabelRequest(
        order_id=order.order_id, format=pb.LABEL_FORMAT_ZPL), metadata=supervisor.metadata)
    assert zpl.format == pb.LABEL_FORMAT_ZPL and zpl.content.startswith(b"^XA")
    assert packed.tracking_number.encode() in zpl.content

    # Packing again (a retried call) answers the same parcel and charges nothing more.
    again = _pack(packer, order.order_id, 2 * 350 + 250 + 20)
    assert again.order.tracking_number == packed.tracking_number
    assert len([e for e in ledger(tote.sandbox_url, order.order_id)
                if e["kind"] == "capture"]) == 1


def test_a_box_30_percent_too_light_is_refused_and_nothing_changes(tote, admin, shop, packer):
    sku, order = _ready(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    pick(tote, packer, order.order_id)
    expected = 2 * 350 + 250
    with pytest.raises(grpc.RpcError) as exc:
        _pack(packer, order.order_id, int(expected * 0.7))
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"{int(expected * 0.7)} g measured but {expected} g are expected" in \
        exc.value.details()
    after = shop.get(order.order_id)
    assert after.status == pb.ORDER_STATUS_PICKING
    assert [s.status for s in after.shipments] == ["picked"]
    assert after.tracking_number == "" and after.payment.state == "authorized"
    assert [e["kind"] for e in ledger(tote.sandbox_url, order.order_id)] == ["authorization"]

    with pytest.raises(grpc.RpcError) as exc:
        _pack(packer, order.order_id, expected, box="XXL")
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "S 150 g, M 250 g, L 400 g" in exc.value.details()
    assert _pack(packer, order.order_id, expected).order.status == PACKED


def test_an_unpicked_order_cannot_be_packed_and_has_no_label(tote, admin, shop, packer,
                                                             supervisor):
    _sku, order = _ready(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    with pytest.raises(grpc.RpcError) as exc:
        _pack(packer, order.order_id, 950)
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "0 of 2 units picked; finish the pick task first" in exc.value.details()
    with pytest.raises(grpc.RpcError) as exc:
        supervisor.shipping.GetLabel(shipping_pb2.GetLabelRequest(order_id=order.order_id),
                                     metadata=supervisor.metadata)
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND
    pick(tote, packer, order.order_id)  # leave the queue empty for the next test


def test_a_capture_that_keeps_failing_voids_the_hold_returns_stock_and_cancels(
        tote, admin, shop, packer):
    sku, order = _ready(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    pick(tote, packer, order.order_id)
    assert admin.stock(sku) == (5, 0, 3)
    httpx.post(f"{tote.sandbox_url}/v1/sandbox/faults",
               json={"route": "capture", "kind": "http_500", "count": 10}).raise_for_status()
    try:
        with pytest.raises(grpc.RpcError) as exc:
            _pack(packer, order.order_id, 950)
        assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "put the items back" in exc.value.details()
    finally:
        httpx.delete(f"{tote.sandbox_url}/v1/sandbox/faults")
    after = shop.get(order.order_id)
    assert after.status == CANCELLED
    assert "payment capture failed at packing" in after.cancel_reason
    assert after.payment.state == "voided"
    assert [s.status for s in after.shipments] == ["cancelled"]
    kinds = [e["kind"] for e in ledger(tote.sandbox_url, order.order_id)]
    assert kinds == ["authorization", "void"]
    assert admin.stock(sku) == (5, 0, 5)  # the hard locks went back on the shelf
    types = [e.type for e in shop.events(order.order_id)]
    assert types[-3:] == ["Payment_Voided", "Inventory_Released", "Order_Cancelled"]


def test_upi_order_short_one_unit_refunds_the_difference_at_packing(tote, admin, shop, packer):
    sku = unique("UPI")
    admin.product(sku, price_minor=30_000, weight_grams=400)
    admin.receive("FC-BLR", sku, 3)
    placed = shop.place([(sku, 2)], upi())
    deadline = time.monotonic() + 10
    while httpx.post(f"{tote.sandbox_url}/v1/upi/intents/{placed.payment.upi_intent_id}"
                     "/approve").status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    order = shop.wait_status(placed.order_id, {PROCESSING, CANCELLED})
    assert order.status == PROCESSING, order.cancel_reason
    pick(tote, packer, order.order_id, short=1)
    packed = _pack(packer, order.order_id, 400 + 150, box="S").order
    assert packed.status == PACKED
    fee = order.shipping_fee.amount_minor
    # Debited in full at approval; the unit not shipped is refunded: net = what ships.
    assert packed.payment.captured.amount_minor == order.total.amount_minor
    assert packed.payment.refunded.amount_minor == 30_000
    assert (packed.payment.captured.amount_minor
            - packed.payment.refunded.amount_minor) == 30_000 + fee
    refunds = [e for e in ledger(tote.sandbox_url, order.order_id) if e["kind"] == "refund"]
    assert [r["amount_minor"] for r in refunds] == [30_000]
    types = [e.type for e in shop.events(order.order_id, timeout_s=1)]
    assert types[-3:] == ["Payment_Refunded", "Payment_Captured", "Order_Packed"]


def test_cod_order_is_packed_with_nothing_charged_and_the_amount_due_on_the_label(
        tote, admin, shop, packer):
    _sku, order = _ready(tote, admin, shop, cod(), units=1)
    pick(tote, packer, order.order_id)
    result = _pack(packer, order.order_id, 350 + 150, box="S")
    assert result.order.status == PACKED
    assert [e["kind"] for e in ledger(tote.sandbox_url, order.order_id)] == []
    assert result.order.tracking_number in _codes(result.label.content)
    db = Database(tote.db_url)
    try:
        with db.read() as s:
            due = s.scalar(select(Shipment.cod_due_minor)
                           .where(Shipment.order_id == order.order_id))
    finally:
        db.dispose()
    assert due == order.total.amount_minor


@pytest.mark.slow
def test_sigkill_while_packing_then_restart_packs_every_order_with_one_capture_each(
        db_url, tmp_path):
    webhook_port = free_port()
    sandbox = SandboxProcess(tmp_path, f"http://127.0.0.1:{webhook_port}/webhooks/gateway",
                             latency_ms=300).start()

    def server() -> ToteServer:
        return ToteServer(db_url, tmp_path, sandbox=False, webhook_port=webhook_port,
                          args=["--gateway-url", sandbox.url, "--carrier-url", sandbox.url,
                                "--saga-lease-s", "2"]).start()

    try:
        first = server()
        admin = first.client(first.token("admin"))
        admin.fc("FC-BLR")
        sku = unique("CRASHPACK")
        admin.product(sku, weight_grams=350)
        admin.receive("FC-BLR", sku, 10)
        token = sandbox_card(sandbox.url)
        placed = [admin.place([(sku, 1)], card(token)) for _ in range(3)]
        orders = [admin.wait_status(o.order_id, {PROCESSING, CANCELLED}) for o in placed]
        assert all(o.status == PROCESSING for o in orders)
        for o in orders:
            pick(first, admin, o.order_id)

        def pack(order_id: str) -> None:
            with contextlib.suppress(grpc.RpcError):  # the server dies under the call
                _pack(admin, order_id, 350 + 250)

        threads = [threading.Thread(target=pack, args=(o.order_id,)) for o in orders]
        for t in threads:
            t.start()
        # Kill once a parcel is at packing: its capture is in flight at the slow sandbox.
        deadline = time.monotonic() + 30
        while not any(s.status == "packing" for o in orders
                      for s in admin.get(o.order_id).shipments):
            assert time.monotonic() < deadline, "no parcel reached packing"
            time.sleep(0.02)
        first.kill()
        for t in threads:
            t.join(30)
        admin.close()
        db = Database(db_url)
        try:
            with db.read() as s:
                at_kill = dict(s.execute(select(Shipment.order_id, Shipment.status).where(
                    Shipment.order_id.in_([o.order_id for o in orders]))).all())
        finally:
            db.dispose()
        assert "packing" in at_kill.values(), \
            f"the kill came too late to interrupt packing: {at_kill}"

        second = server()
        admin = second.client(second.token("admin"))
        # A parcel whose PackOrder never reached the first server is still waiting for the
        # packer, who tries again against the new server; the parcels at packing are the
        # server's to finish by itself.
        for order_id, status in at_kill.items():
            if status == "picked":
                _pack(admin, order_id, 350 + 250)
        finals = [admin.wait_status(o.order_id, {PACKED, CANCELLED}, timeout_s=60)
                  for o in orders]
        assert [f.status for f in finals] == [PACKED] * 3, [f.cancel_reason for f in finals]
        assert all(f.tracking_number for f in finals)
        captures = collections.Counter(e["reference"] for e in ledger(sandbox.url)
                                       if e["kind"] == "capture")
        assert captures == {o.order_id: 1 for o in orders}
        admin.close()
        second.terminate()
    finally:
        sandbox.stop()


def test_an_order_being_packed_can_no_longer_be_cancelled(tote, admin, shop, packer):
    _sku, order = _ready(tote, admin, shop, card(sandbox_card(tote.sandbox_url)))
    pick(tote, packer, order.order_id)
    # The capture's first answer is late: the parcel is at packing for a second or so.
    httpx.post(f"{tote.sandbox_url}/v1/sandbox/faults", json={
        "route": "capture", "kind": "timeout_before", "delay_ms": 1500}).raise_for_status()
    result: dict[str, object] = {}
    packing = threading.Thread(target=lambda: result.update(
        packed=_pack(packer, order.order_id, 950)))
    packing.start()
    try:
        deadline = time.monotonic() + 10
        while not [s for s in shop.get(order.order_id).shipments if s.status == "packing"]:
            assert time.monotonic() < deadline, "the parcel never reached packing"
            time.sleep(0.02)
        with pytest.raises(grpc.RpcError) as exc:
            shop.orders.CancelOrder(orders_pb2.CancelOrderRequest(
                order_id=order.order_id, reason="changed my mind"), metadata=shop.metadata)
        assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "being packed" in exc.value.details()
    finally:
        packing.join(30)
        httpx.delete(f"{tote.sandbox_url}/v1/sandbox/faults")
    assert result["packed"].order.status == PACKED  # type: ignore[attr-defined]
    kinds = [e["kind"] for e in ledger(tote.sandbox_url, order.order_id)]
    assert kinds == ["authorization", "capture"]
