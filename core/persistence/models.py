"""SQLAlchemy 2.0 typed models. The schema itself is only ever created by Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.domain.order import OrderStatus, check_transition

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC out (SQLite keeps no zone; PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model here is mapped to a plain Table (none to a join or a select), so say so: the
    # services build Core statements on Model.__table__.
    __table__: ClassVar[Table]


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    gtin: Mapped[str] = mapped_column(String(14), index=True)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    weight_grams: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class FulfillmentCenter(Base):
    __tablename__ = "fulfillment_centers"

    fc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    cutoff_hour: Mapped[int] = mapped_column(Integer)
    daily_capacity: Mapped[int] = mapped_column(Integer)
    # The return address labels print as the sender; NULL until a supervisor sets it (no
    # label is printed for an FC without one). none_as_null: None is SQL NULL, not JSON null.
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True),
                                                           nullable=True, default=None)
    # Pickers scan a bin's label before its first unit (the handheld enforces it).
    confirm_bin_scan: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())


class StockLevel(Base):
    """Stock of one SKU at one FC. The CHECKs make overselling impossible at the database."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("soft_locked >= 0", name="soft_locked_non_negative"),
        CheckConstraint("hard_locked >= 0", name="hard_locked_non_negative"),
        CheckConstraint("soft_locked + hard_locked <= on_hand", name="locks_within_on_hand"),
    )

    fc_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("fulfillment_centers.fc_id"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("products.sku"), primary_key=True, index=True
    )
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    soft_locked: Mapped[int] = mapped_column(Integer, default=0)
    hard_locked: Mapped[int] = mapped_column(Integer, default=0)
    received_total: Mapped[int] = mapped_column(Integer, default=0)
    bin: Mapped[str] = mapped_column(String(32), default="")


# Card or UPI, captured, shipped or delivered, not yet settled: what the gateway may still pay
# out (COD orders have a capture id too; remittances settle them).
SETTLEMENT_DUE = text("payment_method IN ('card', 'upi') AND status IN ('SHIPPED', 'DELIVERED') "
                      "AND capture_id IS NOT NULL AND settled_at IS NULL")
# Cash on delivery, delivered, not yet settled: what a remittance may still settle.
COD_UNSETTLED = text("payment_method = 'cod' AND status = 'DELIVERED' AND settled_at IS NULL")


class Order(Base):
    """The order aggregate's row: status plus the state of each saga step."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("storefront", "idempotency_key", name="storefront_idempotency_key"),
        Index("ix_orders_saga_due", "saga_due_at"),
        # ListOrders pages newest first by order id under each filter (keyset page token):
        # each index hands over the filtered rows already in that order, so a page reads
        # about a page of rows whatever the history (migration 0009).
        Index("ix_orders_storefront_order", "storefront", "order_id"),
        Index("ix_orders_status_order", "status", "order_id"),
        Index("ix_orders_customer_order", "customer_id", "order_id"),
        Index("ix_orders_fc_order", "fc_id", "order_id"),
        # A storefront's page of one customer: without statistics SQLite prices the storefront
        # and the customer index alike and took either, the storefront's being a walk of all
        # its orders; two equalities make this one the plain choice (migration 0012).
        Index("ix_orders_storefront_customer_order", "storefront", "customer_id", "order_id"),
        # The settlement pass reads the orders it may still settle, not every order delivered
        # (migration 0013): partial indexes of those alone. The statements write the same
        # conditions with literals, or neither SQLite nor PostgreSQL's generic plan uses them.
        # The columns are for SQLite's planner without statistics: more equalities than
        # ix_orders_status_order offers (and order_id after them, no sort), or it takes that.
        Index("ix_orders_settlement_due", "settled_at", "order_id", sqlite_where=SETTLEMENT_DUE,
              postgresql_where=SETTLEMENT_DUE),
        Index("ix_orders_cod_unsettled", "payment_method", "status", "settled_at",
              sqlite_where=COD_UNSETTLED, postgresql_where=COD_UNSETTLED),
    )

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    storefront: Mapped[str] = mapped_column(String(128))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[str] = mapped_column(String(256))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_fee_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column(Integer)
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    inventory_state: Mapped[str] = mapped_column(String(16))
    payment_method: Mapped[str] = mapped_column(String(8))
    payment_state: Mapped[str] = mapped_column(String(24))
    # The gateway's token for the card (never a card number); kept to retry after a crash.
    payment_token: Mapped[str | None] = mapped_column(String(256))
    upi_vpa: Mapped[str | None] = mapped_column(String(100))
    upi_intent_id: Mapped[str | None] = mapped_column(String(64))
    upi_intent_uri: Mapped[str | None] = mapped_column(Text)
    upi_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    authorization_id: Mapped[str | None] = mapped_column(String(64))
    authorized_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    fc_id: Mapped[str | None] = mapped_column(String(64))
    # The delivery date promised at placement (routing prefers FCs that can keep it).
    promised_by: Mapped[datetime | None] = mapped_column(UtcDateTime())
    capture_id: Mapped[str | None] = mapped_column(String(64))
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a saga worker should next look at this order (NULL: nothing to do); also the lease.
    saga_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # saga_due_at is a lease (a replica runs the saga until then), not a time to look again:
    # a claim that finds it lapsed takes a dead or stalled replica's saga over.
    saga_leased: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The customer's contact for notifications (migration 0014); NULL: none given, no messages.
    contact_email: Mapped[str | None] = mapped_column(String(254), default=None)
    contact_phone: Mapped[str | None] = mapped_column(String(16), default=None)
    contact_locale: Mapped[str | None] = mapped_column(String(35), default=None)

    def transition(self, to: OrderStatus) -> None:
        """Move to `to` if the order's own status allows it (FailedPrecondition otherwise)."""
        check_transition(OrderStatus(self.status), to)
        self.status = to


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.order_id"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), ForeignKey("products.sku"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column(Integer)


class SoftLock(Base):
    """Units of one SKU held at one FC for one order, so a release gives back exactly these.

    `quantity` units are soft-locked (reserved); `hard_quantity` units have been scanned off
    the shelf by a picker (hard-locked) and leave stock when the parcel is handed off.
    """

    __tablename__ = "soft_locks"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("hard_quantity >= 0", name="hard_quantity_non_negative"),
    )

    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.order_id"), primary_key=True
    )
    fc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    hard_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class OrderEvent(Base):
    """The transactional outbox and the order's history: written with the state change."""

    __tablename__ = "order_events"

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(String(40), index=True)
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    fc_id: Mapped[str | None] = mapped_column(String(64))
    storefront: Mapped[str] = mapped_column(String(128))
    # Indexed for GetThroughput: the console counts the last hours' events, not all of them.
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    relayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WebhookReceipt(Base):
    """Webhook event ids already handled: a duplicate delivery changes nothing."""

    __tablename__ = "webhook_receipts"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ApiToken(Base):
    """A bearer token, stored as its SHA-256 (tokens are random 256-bit secrets)."""

    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    fc_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # None: never expires.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # This token's own rate limit (calls/s, burst); None: the server's --rate-limit; 0 calls/s:
    # never limited.
    rate_limit_rps: Mapped[float | None] = mapped_column(Float)
    rate_limit_burst: Mapped[int | None] = mapped_column(Integer)
