"""Customer notifications' statements: message rows (inserted once per event, channel and
recipient; claimed, sent, retried, dead) and the customers' opt-outs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from core.persistence.tables import (
    NOTIFICATION_MESSAGES,
    NOTIFICATION_PREFERENCES,
    ORDERS,
    SHIPMENTS,
)

M, P = NOTIFICATION_MESSAGES, NOTIFICATION_PREFERENCES
QUEUED, SENDING, SENT, DEAD, SKIPPED = "queued", "sending", "sent", "dead", "skipped"


@dataclass(frozen=True, slots=True)
class OrderContact:
    """What the fan-out reads of an order: who to tell, in which language, and whose opt-outs."""

    order_id: str
    storefront: str
    customer_id: str
    email: str | None
    phone: str | None
    locale: str | None
    status: str
    cancel_requested: str | None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    message_id: str
    event_id: int
    event_type: str
    order_id: str
    storefront: str
    customer_id: str
    channel: str
    recipient: str
    locale: str
    detail: str
    status: str
    attempts: int
    due_at: datetime
    holder: str | None
    last_error: str | None
    subject: str | None
    body: str | None
    created_at: datetime
    sent_at: datetime | None


def _record(row: Any) -> MessageRecord:
    return MessageRecord(**{c.key: getattr(row, c.key) for c in M.columns})


def _insert(conn: Connection) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def contacts(conn: Connection, order_ids: Iterable[str]) -> dict[str, OrderContact]:
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = conn.execute(select(
        ORDERS.c.order_id, ORDERS.c.storefront, ORDERS.c.customer_id, ORDERS.c.contact_email,
        ORDERS.c.contact_phone, ORDERS.c.contact_locale, ORDERS.c.status,
        ORDERS.c.cancel_requested).where(ORDERS.c.order_id.in_(ids)))
    return {r.order_id: OrderContact(*r) for r in rows}


def opt_outs(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str],
                                                                          tuple[bool, bool]]:
    """(storefront, customer_id) → (email opted out, SMS opted out), for those who set any."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = conn.execute(select(P.c.storefront, P.c.customer_id, P.c.email_opt_out,
                               P.c.sms_opt_out)
                        .where(tuple_(P.c.storefront, P.c.customer_id).in_(wanted)))
    return {(r.storefront, r.customer_id): (bool(r.email_opt_out), bool(r.sms_opt_out))
            for r in rows}


def insert_messages(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert message rows; one already there for its (event, channel, recipient) stays."""
    if rows:
        conn.execute(_insert(conn)(M).on_conflict_do_nothing(
            index_elements=["event_id", "channel", "recipient"]), list(rows))


def claim_due(conn: Connection, holder: str, now: datetime, until: datetime,
              limit: int) -> list[MessageRecord]:
    """Take up to `limit` due messages for `holder` until `until`: queued ones whose time has
    come, and ones another sender claimed and did not finish within its lease."""
    due = select(M.c.message_id).where(
        M.c.status.in_((QUEUED, SENDING)), M.c.due_at <= now,
    ).order_by(M.c.due_at).limit(limit)
    if conn.dialect.name == "postgresql":
        # Replicas claiming at once take different rows instead of waiting for each other.
        due = due.with_for_update(skip_locked=True)
    ids = list(conn.execute(due).scalars())
    if not ids:
        return []
    conn.execute(update(M).where(M.c.message_id.in_(ids)).values(
        status=SENDING, holder=holder, due_at=until, attempts=M.c.attempts + 1))
    rows = conn.execute(select(M).where(M.c.message_id.in_(ids)).order_by(M.c.due_at,
                                                                            M.c.message_id))
    return [_record(r) for r in rows]


def any_due(conn: Connection, now: datetime) -> bool:
    """Whether a claim would find anything (a read: the sender asks before it writes)."""
    return conn.execute(select(M.c.message_id).where(
        M.c.status.in_((QUEUED, SENDING)), M.c.due_at <= now).limit(1)).first() is not None


def _mine(message_id: str, holder: str) -> Any:
    return and_(M.c.message_id == message_id, M.c.status == SENDING, M.c.holder == holder)


def mark_sent(conn: Connection, message_id: str, holder: str, subject: str, body: str,
              now: datetime) -> bool:
    return conn.execute(update(M).where(_mine(message_id, holder)).values(
        status=SENT, subject=subject, body=body, sent_at=now, last_error=None,
    )).rowcount == 1


def mark_failed(conn: Connection, message_id: str, holder: str, error: str,
                retry_at: datetime | None) -> bool:
    """A failed attempt: queued again for `retry_at`, or dead (None)."""
    values: dict[str, Any] = {"last_error": error[:1000], "holder": None}
    values.update({"status": QUEUED, "due_at": retry_at} if retry_at else {"status": DEAD})
    return conn.execute(update(M).where(_mine(message_id, holder)).values(**values)
                        ).rowcount == 1


def mark_skipped(conn: Connection, message_id: str, holder: str, why: str) -> bool:
    return conn.execute(update(M).where(_mine(message_id, holder)).values(
        status=SKIPPED, last_error=why, holder=None)).rowcount == 1


def of_order(conn: Connection, order_id: str) -> list[MessageRecord]:
    rows = conn.execute(select(M).where(M.c.order_id == order_id)
                        .order_by(M.c.event_id, M.c.channel))
    return [_record(r) for r in rows]


def dead(conn: Connection, limit: int) -> list[MessageRecord]:
    rows = conn.execute(select(M).where(M.c.status == DEAD)
                        .order_by(M.c.created_at.desc(), M.c.message_id.desc()).limit(limit))
    return [_record(r) for r in rows]


def get(conn: Connection, message_id: str) -> MessageRecord | None:
    row = conn.execute(select(M).where(M.c.message_id == message_id)).first()
    return None if row is None else _record(row)


def requeue_dead(conn: Connection, message_id: str, now: datetime) -> bool:
    """A dead letter queued again, due now, with its attempts counted afresh."""
    return conn.execute(update(M).where(M.c.message_id == message_id, M.c.status == DEAD)
                        .values(status=QUEUED, attempts=0, due_at=now, holder=None)
                        ).rowcount == 1


def preferences(conn: Connection, storefront: str, customer_id: str) -> Any:
    return conn.execute(select(P).where(P.c.storefront == storefront,
                                        P.c.customer_id == customer_id)).first()


def set_preferences(conn: Connection, storefront: str, customer_id: str, email_opt_out: bool,
                    sms_opt_out: bool, now: datetime) -> None:
    values = {"storefront": storefront, "customer_id": customer_id,
              "email_opt_out": email_opt_out, "sms_opt_out": sms_opt_out, "updated_at": now}
    stmt = _insert(conn)(P).values(**values)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["storefront", "customer_id"],
        set_={k: v for k, v in values.items() if k not in ("storefront", "customer_id")}))


@dataclass(frozen=True, slots=True)
class ParcelView:
    carrier: str
    tracking_number: str
    status: str
    cod_due_minor: int


def order_view(conn: Connection, order_id: str) -> tuple[Any, list[ParcelView]]:
    """The order row and its parcels, for a message's words."""
    order = conn.execute(select(ORDERS).where(ORDERS.c.order_id == order_id)).first()
    parcels = conn.execute(select(
        SHIPMENTS.c.carrier, SHIPMENTS.c.tracking_number, SHIPMENTS.c.status,
        SHIPMENTS.c.cod_due_minor).where(
        SHIPMENTS.c.order_id == order_id, or_(SHIPMENTS.c.tracking_number.is_not(None)))
        .order_by(SHIPMENTS.c.created_at))
    return order, [ParcelView(p.carrier or "", p.tracking_number or "", p.status,
                              p.cod_due_minor or 0) for p in parcels]
