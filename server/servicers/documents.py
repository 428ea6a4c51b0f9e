"""FulfillmentService.GetOrderDocument: a mixin of FulfillmentServicer (`self.ctx`).

An order's pick list and packing slip as PDFs, drawn by `labels` (every barcode read back
before the document is returned).
"""

from __future__ import annotations

import asyncio

from grpc import aio

import labels
from core.domain.errors import FailedPrecondition, InvalidArgument
from core.service import documents
from server.context import ServerContext
from server.packing import label_address, ship_from_of
from server.servicers.picking import check_fc
from tote.v1 import fulfillment_pb2 as pb

_KINDS = {pb.DOCUMENT_KIND_PICK_LIST: "pick-list", pb.DOCUMENT_KIND_PACKING_SLIP: "packing-slip"}
_PACKED = ("packed", "shipped", "delivered")


class DocumentRpcs:
    ctx: ServerContext

    async def GetOrderDocument(self, request: pb.GetOrderDocumentRequest,
                               context: aio.ServicerContext) -> pb.Document:
        kind = _KINDS.get(request.kind)
        if kind is None:
            raise InvalidArgument("kind must be DOCUMENT_KIND_PICK_LIST or "
                                  "DOCUMENT_KIND_PACKING_SLIP", field="kind")
        doc = await self.ctx.dbx.read(documents.order_document, request.order_id,
                                      request.shipment_id)
        await check_fc(context, doc.fc_id)
        # No transaction is open here: the drawing and its read-back run in a thread.
        render = _pick_list if kind == "pick-list" else _packing_slip
        content = await asyncio.to_thread(render, doc)
        return pb.Document(filename=f"{kind}-{doc.order_id}-{doc.shipment_id}.pdf",
                           content_type="application/pdf", content=content)


def _printable(what: str, doc: documents.OrderDocument, draw) -> bytes:
    try:
        return bytes(draw())
    except labels.LabelError as exc:
        raise FailedPrecondition(f"the {what} of shipment {doc.shipment_id} cannot be printed: "
                                 f"{exc}") from None


def _pick_list(doc: documents.OrderDocument) -> bytes:
    """Every line of the shipment, bin by bin, with its GTIN to scan and the product's name."""
    def draw() -> bytes:
        return labels.render_pick_list(labels.PickList(
            pick_list_id=doc.shipment_id, fc_id=doc.fc_id, created=doc.created_at,
            lines=tuple(labels.PickLine(bin=ln.bin or "(no bin)", sku=ln.sku, gtin=ln.gtin,
                                        quantity=ln.quantity, order_id=doc.order_id,
                                        description=ln.name) for ln in doc.lines)))
    return _printable("pick list", doc, draw)


def _packing_slip(doc: documents.OrderDocument) -> bytes:
    """The parcel's units with their names and prices, from the data its label was printed from."""
    p = doc.progress
    if p is None or doc.status not in _PACKED:
        raise FailedPrecondition(
            f"shipment {doc.shipment_id} of order {doc.order_id} is {doc.status}: its packing "
            "slip is printed once it is packed (the slip names the carrier and tracking number)")
    cur = doc.currency
    ship_from = label_address(ship_from_of(p))  # FAILED_PRECONDITION without a return address

    def draw() -> bytes:
        data = labels.LabelData(
            tracking_number=p.tracking_number or "", order_id=p.order_id,
            carrier=p.carrier or "", service=p.service or "", weight_grams=p.weight_grams,
            ship_from=ship_from, ship_to=label_address(p.ship_to),
            ship_date=(doc.packed_at or doc.created_at).date(),
            cod=labels.Money(p.cod_due_minor, cur) if p.cod_due_minor > 0 else None,
            lines=tuple(labels.OrderLine(sku=ln.sku, quantity=ln.picked, description=ln.name,
                                         unit_price=labels.Money(ln.unit_price_minor, cur))
                        for ln in doc.lines if ln.picked > 0),
            order_total=labels.Money(doc.total_minor, cur))
        return labels.render_packing_slip(data)
    return _printable("packing slip", doc, draw)
