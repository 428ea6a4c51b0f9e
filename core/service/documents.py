"""What an order's printed documents show: one shipment's pick list or packing slip.

Read here in one read transaction; the server renders the PDF afterwards, off the event loop
and with no transaction open (rendering reads its barcodes back: slow, and it needs no lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from core.persistence.repos import pack_lists as repo
from core.service import packing


@dataclass(frozen=True, slots=True)
class DocumentLine:
    bin: str
    sku: str
    gtin: str
    name: str
    quantity: int  # units to pick
    picked: int  # units in the box
    unit_price_minor: int


@dataclass(frozen=True, slots=True)
class OrderDocument:
    """One shipment of an order, with what its pick list and packing slip print."""

    order_id: str
    shipment_id: str
    fc_id: str
    status: str
    created_at: datetime
    packed_at: datetime | None
    currency: str
    total_minor: int
    lines: list[DocumentLine]
    # What the shipping label was printed from (None until the carrier is booked).
    progress: packing.Progress | None


def order_document(session: Session, order_id: str, shipment_id: str) -> OrderDocument:
    """The shipment (the order's first when shipment_id is empty) and its lines."""
    if not order_id:
        raise InvalidArgument("order_id is required", field="order_id")
    conn = session.connection()
    order = repo.order_total(conn, order_id)
    if order is None:
        raise NotFound(f"no order {order_id[:64]!r}")
    shipment = repo.first_shipment(conn, order_id, shipment_id)
    if shipment is None:
        if shipment_id:
            raise NotFound(f"order {order_id} has no shipment {shipment_id[:64]!r}")
        raise FailedPrecondition(f"order {order_id} has no shipment yet: its documents are "
                                 "printed once it is routed to an FC")
    lines = [DocumentLine(r.bin, r.sku, r.gtin, r.name or "", r.quantity, r.picked,
                          r.unit_price_minor)
             for r in repo.lines_by_sku(conn, shipment.shipment_id)]
    booked = shipment.tracking_number and shipment.carrier and shipment.weight_grams
    return OrderDocument(
        order_id=order_id, shipment_id=shipment.shipment_id, fc_id=shipment.fc_id,
        status=shipment.status, created_at=shipment.created_at, packed_at=shipment.packed_at,
        currency=order.currency, total_minor=order.total_minor, lines=lines,
        progress=packing.progress(session, shipment.shipment_id) if booked else None)
