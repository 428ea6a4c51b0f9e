"""GetOrderDocument against a real tote: an order's pick list and packing slip as PDFs whose
barcodes read back (pyzbar) and whose text names the items."""

from __future__ import annotations

import grpc
import pypdfium2 as pdfium

import labels
from labels.verify import PDFIUM_LOCK
from tests.harness import Client, unique
from tests.integration.test_picking import (
    new_gtin,
    next_task,
    picker,
    ready_order,
    refused,
    scan,
    stock_at,
)
from tote.v1 import catalog_pb2
from tote.v1 import common_pb2 as pb
from tote.v1 import fulfillment_pb2 as fpb

PICK_LIST, PACKING_SLIP = fpb.DOCUMENT_KIND_PICK_LIST, fpb.DOCUMENT_KIND_PACKING_SLIP


def named_item(admin: Client, fc_id: str, name: str, bin_: str) -> tuple[str, str]:
    sku, gtin = unique("SKU"), new_gtin()
    admin.catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product=pb.Product(
        sku=sku, name=name, gtin=gtin, weight_grams=400,
        unit_price=pb.Money(amount_minor=25_000, currency="INR"))), metadata=admin.metadata)
    stock_at(admin, fc_id, sku, 5, bin_)
    return sku, gtin


def document(client: Client, order_id: str, kind: int, shipment_id: str = "") -> fpb.Document:
    return client.fulfillment.GetOrderDocument(fpb.GetOrderDocumentRequest(
        order_id=order_id, kind=kind, shipment_id=shipment_id), metadata=client.metadata,
        timeout=30)


def text_of(pdf: bytes) -> str:
    """The PDF's text, with a table cell's wrapped lines joined again."""
    with PDFIUM_LOCK:  # (PDFium is not thread-safe: every use in the process takes it)
        doc = pdfium.PdfDocument(pdf)
        try:
            return " ".join(" ".join(doc[i].get_textpage().get_text_range().split())
                            for i in range(len(doc)))
        finally:
            doc.close()


def codes(pdf: bytes) -> set[str]:
    return {c.data for c in labels.verify(pdf)}


def test_an_orders_pick_list_then_its_packing_slip_once_packed(tote, admin, shop, fc):
    mug, mug_gtin = named_item(admin, fc, "Chai mug, blue 350 ml", "A-07-2")
    tray, tray_gtin = named_item(admin, fc, "Tea tray", "B-01-1")
    order_id = ready_order(shop, [(mug, 2), (tray, 1)])
    p = picker(tote, fc)
    task = next_task(p, fc)
    shipment_id = shop.get(order_id).shipments[0].shipment_id

    pick_list = document(p, order_id, PICK_LIST)
    assert (pick_list.filename, pick_list.content_type) == (
        f"pick-list-{order_id}-{shipment_id}.pdf", "application/pdf")
    assert {shipment_id, mug_gtin, tray_gtin} <= codes(pick_list.content)
    words = text_of(pick_list.content)
    for expected in ("PICK LIST", "Chai mug, blue 350 ml", "Tea tray", "A-07-2", "B-01-1",
                     fc, "3 units"):
        assert expected in words, expected
    # The same shipment named explicitly: the same document (its PDF's creation time aside).
    assert text_of(document(p, order_id, PICK_LIST, shipment_id).content) == words

    message = refused(lambda: document(p, order_id, PACKING_SLIP),
                      grpc.StatusCode.FAILED_PRECONDITION)
    assert "once it is packed" in message

    for gtin in (mug_gtin, mug_gtin, tray_gtin):
        scan(p, task.task_id, gtin)
    packed = p.fulfillment.PackOrder(fpb.PackOrderRequest(
        order_id=order_id, weight_grams=3 * 400 + 250, box="M"), metadata=p.metadata,
        timeout=60)
    assert packed.order.status == pb.ORDER_STATUS_PACKED, packed.order.cancel_reason
    tracking = packed.order.tracking_number

    ops = tote.client(tote.token("supervisor", "ops"))
    slip = document(ops, order_id, PACKING_SLIP)
    assert slip.filename == f"packing-slip-{order_id}-{shipment_id}.pdf"
    assert order_id in codes(slip.content)
    words = text_of(slip.content)
    for expected in ("PACKING SLIP", "Chai mug, blue 350 ml", "Tea tray", tracking,
                     "CASH ON DELIVERY", "2 lines, 3 items", "Ananya Sharma"):
        assert expected in words, expected


def test_documents_refuse_what_they_cannot_print(tote, admin, shop, fc):
    sku, _ = named_item(admin, fc, "Kettle", "C-02-1")
    order_id = ready_order(shop, [(sku, 1)])
    ops = tote.client(tote.token("supervisor", "ops"))
    refused(lambda: document(ops, order_id, fpb.DOCUMENT_KIND_UNSPECIFIED),
            grpc.StatusCode.INVALID_ARGUMENT)
    refused(lambda: document(ops, "", PICK_LIST), grpc.StatusCode.INVALID_ARGUMENT)
    refused(lambda: document(ops, "ord_NOPE", PICK_LIST), grpc.StatusCode.NOT_FOUND)
    refused(lambda: document(ops, order_id, PICK_LIST, "shp_NOPE"), grpc.StatusCode.NOT_FOUND)
    other = unique("FC")
    admin.fc(other)
    refused(lambda: document(picker(tote, other), order_id, PICK_LIST),
            grpc.StatusCode.PERMISSION_DENIED)
    refused(lambda: document(shop, order_id, PICK_LIST), grpc.StatusCode.PERMISSION_DENIED)
    assert document(picker(tote, fc), order_id, PICK_LIST).content.startswith(b"%PDF")
