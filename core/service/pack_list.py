"""Pack lists: what goes in each box — a tote's (pick task's) shipments, or an order's.

A pack list is one shipment's picked units: the packer verifies them unit by unit and weighs
the box against `expected_weight_grams`, the same catalog weights (copied onto the pick lines
when the order was placed) that PackOrder's weight gate uses, without the box's tare.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.domain.binpath import walk_key
from core.domain.errors import InvalidArgument, NotFound
from core.persistence.repos import pack_lists as repo
from core.persistence.repos.pack_lists import ShipmentLine
from core.service import totes
from core.service.picking import LineView


@dataclass(frozen=True, slots=True)
class PackList:
    order_id: str
    shipment_id: str
    fc_id: str
    status: str
    lines: list[LineView]  # quantity = units picked (in the tote)
    expected_weight_grams: int


def which(task_id: str, order_id: str, shipment_id: str, tote_code: str = ""
          ) -> tuple[str, str]:
    """(the field given, its value); exactly one of the four must be."""
    given = [(k, v) for k, v in (("task_id", task_id), ("order_id", order_id),
                                 ("shipment_id", shipment_id), ("tote_code", tote_code)) if v]
    if len(given) != 1:
        raise InvalidArgument("give exactly one of tote_code (the tote's label), task_id (its "
                              f"pick task), order_id or shipment_id; got {len(given)}",
                              field="task_id")
    key, value = given[0]
    if len(value) > 64:
        raise InvalidArgument(f"{key} is at most 64 characters", field=key)
    return key, value


def task_of_tote(session: Session, code: str) -> str:
    """The pick task of the tote with this printed code (see core.service.totes)."""
    return totes.task_of_tote(session.connection(), code)


def pack_lists(session: Session, key: str, value: str) -> list[PackList]:
    """The shipments of a tote (key "task_id"), an order or one shipment, oldest first."""
    conn = session.connection()
    if key == "task_id":
        if not repo.task_exists(conn, value):
            raise NotFound(f"no pick task {value!r}: scan the tote's label again")
        shipments = repo.shipments_of_task(conn, value)
    elif key == "order_id":
        if not repo.order_exists(conn, value):
            raise NotFound(f"no order {value!r}")
        shipments = repo.shipments_of_order(conn, value)
    else:
        shipments = repo.shipment(conn, value)
    if key == "shipment_id" and not shipments:
        raise NotFound(f"no shipment {value!r}")
    ids = [s.shipment_id for s in shipments]
    by_shipment: dict[str, list[ShipmentLine]] = {i: [] for i in ids}
    if ids:
        for row in repo.picked_lines(conn, ids):
            by_shipment[row.shipment_id].append(row)
    out = []
    for s in shipments:
        rows = sorted(by_shipment[s.shipment_id], key=lambda r: (walk_key(r.bin), r.line_id))
        out.append(PackList(
            order_id=s.order_id, shipment_id=s.shipment_id, fc_id=s.fc_id, status=s.status,
            lines=[LineView(r.line_id, r.order_id, r.sku, r.gtin, r.bin, r.picked, r.picked,
                            r.missing, r.name or "") for r in rows],
            expected_weight_grams=sum(r.weight_grams * r.picked for r in rows)))
    return out
