"""Typed models of fulfillment: routing decisions, shipments, picking, carriers and COD."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.persistence.models import Base, UtcDateTime


class RoutingDecision(Base):
    """Why an order went to its FC: every candidate's score and factors (ExplainRouting)."""

    __tablename__ = "routing_decisions"

    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.order_id"), primary_key=True
    )
    chosen_fc_id: Mapped[str] = mapped_column(String(64))
    # [{"fc_id", "score", "factors": {name: value}, "reason"}], best first.
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    overridden_by: Mapped[str | None] = mapped_column(String(128))


def _shipments_in(status: str) -> Index:
    """An index of the shipments in one status by when each was last touched (the queries
    write the status as a literal: a parameter would keep PostgreSQL's generic plan off it)."""
    where = text(f"status = '{status}'")
    return Index(f"ix_shipments_{status}", "updated_at", sqlite_where=where,
                 postgresql_where=where)


class Shipment(Base):
    """The part of an order that ships from one FC: picked, packed, labelled, tracked."""

    __tablename__ = "shipments"
    # The packing worker's claim and the tracking poll read the few shipments "packing" or
    # "shipped", least recently touched first: each an index of those rows alone (migration
    # 0011). Partial, not one on (status, updated_at): SQLite's planner, without statistics,
    # took that over order_id for "this order's pending shipments" too.
    __table_args__ = (_shipments_in("packing"), _shipments_in("shipped"))

    shipment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.order_id"), index=True
    )
    fc_id: Mapped[str] = mapped_column(String(64), index=True)
    # pending → picking → picked → packing → packed → shipped → delivered, or cancelled
    status: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    box: Mapped[str | None] = mapped_column(String(32))
    carrier_cost_minor: Mapped[int | None] = mapped_column(BigInteger)
    # Value of the goods packed (catalog prices × units); what a COD courier collects.
    value_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    cod_due_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    cod_collected_minor: Mapped[int | None] = mapped_column(BigInteger)
    label_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_zpl: Mapped[str | None] = mapped_column(Text)
    manifest_id: Mapped[str | None] = mapped_column(String(40), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    packed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# Tote numbers on PostgreSQL (made by migration 0005; SQLite has no sequences).
TOTE_NUMBERS = Sequence("pick_task_tote_numbers")


class PickTask(Base):
    """A picker's round through the FC: lines of one or more orders, in walking order."""

    __tablename__ = "pick_tasks"

    task_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fc_id: Mapped[str] = mapped_column(String(64), index=True)
    picker: Mapped[str] = mapped_column(String(128))
    # open → done, or abandoned (its unpicked lines went back to the queue)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The last scan or claim: a task untouched for too long returns to the queue.
    touched_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The tote's number, printed as its code "T-0042" (core.domain.totes): unique and never
    # reused; from the sequence TOTE_NUMBERS on PostgreSQL (two replicas never draw the same),
    # max + 1 under SQLite's single writer. (Nullable only because the column came later;
    # migration 0005 numbered every task before it.)
    tote_no: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)


class PickLine(Base):
    """Units of one SKU of one shipment to take from a bin; `task_id` NULL while queued."""

    __tablename__ = "pick_lines"
    __table_args__ = (
        CheckConstraint("picked >= 0 AND missing >= 0 AND picked + missing <= quantity",
                        name="picked_within_quantity"),
    )

    line_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    shipment_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("shipments.shipment_id"), index=True
    )
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    fc_id: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    gtin: Mapped[str] = mapped_column(String(14))
    bin: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    task_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("pick_tasks.task_id"), index=True
    )
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column(Integer)
    # The badge that last reported units of this line short (NULL: none, or an old handheld).
    short_reported_by: Mapped[str | None] = mapped_column(String(128))


class Scan(Base):
    """A handheld's scan by its id: a retried scan gets the first reply and counts once."""

    __tablename__ = "scans"

    scan_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(40), index=True)
    line_id: Mapped[str | None] = mapped_column(String(40))
    barcode: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(128))
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    scanned_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Manifest(Base):
    """Parcels handed to a carrier together (signed for at the dock)."""

    __tablename__ = "manifests"

    manifest_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(64), index=True)
    tracking_numbers: Mapped[list[str]] = mapped_column(JSON)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TrackingEvent(Base):
    """A carrier's scan of a parcel (webhook, polling or RecordTrackingEvent)."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("tracking_number", "status", "occurred_at",
                                       name="tracking_event_once"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(256), default="")
    cod_collected_minor: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CodRemittance(Base):
    """A carrier's bank transfer of cash collected on delivery for a set of parcels."""

    __tablename__ = "cod_remittances"
    __table_args__ = (UniqueConstraint("carrier", "reference", name="carrier_reference"),)

    remittance_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str] = mapped_column(String(128))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CodRemittanceParcel(Base):
    __tablename__ = "cod_remittance_parcels"

    remittance_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("cod_remittances.remittance_id"), primary_key=True
    )
    tracking_number: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
