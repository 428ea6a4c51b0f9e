"""A table consumer for the outbox tests: one row per event it is handed, in the consumer's
transaction. The table has no unique key, so an event handed over twice (and committed
twice) shows as two rows: exactly-once is what the tests count."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.persistence.db import Database
from core.persistence.models import OrderEvent

NAME = "test_effects"
SPEC = (NAME, "tests.outbox_consumer:fan_out")


def fan_out(session: Session, events: Sequence[OrderEvent], now: datetime) -> None:
    # A consumer with work of its own to do (20 ms a batch, in its transaction): while orders
    # keep coming it stays behind them, so a SIGKILL lands mid-stream, not after it caught up.
    time.sleep(0.02)
    session.execute(text("INSERT INTO test_effects (event_id, order_id, type) "
                         "VALUES (:event_id, :order_id, :type)"),
                    [{"event_id": e.event_id, "order_id": e.order_id, "type": e.type}
                     for e in events])


def create_table(url: str) -> None:
    db = Database(url)
    try:
        db.run_write(lambda s: s.execute(text(
            "CREATE TABLE IF NOT EXISTS test_effects (event_id BIGINT NOT NULL, "
            "order_id VARCHAR(40) NOT NULL, type VARCHAR(40) NOT NULL)")))
    finally:
        db.dispose()


def effects(url: str) -> list[int]:
    """The event ids handed to the consumer, one per handing, in the order they were."""
    db = Database(url)
    try:
        return db.run_read(lambda s: [int(r[0]) for r in s.execute(text(
            "SELECT event_id FROM test_effects ORDER BY event_id"))])
    finally:
        db.dispose()


def position(url: str, name: str = NAME) -> int | None:
    db = Database(url)
    try:
        return db.run_read(lambda s: s.scalar(text(
            "SELECT position FROM outbox_positions WHERE consumer = :n").bindparams(n=name)))
    finally:
        db.dispose()


def event_ids(url: str, after: int) -> list[int]:
    """Every committed event id above `after`."""
    db = Database(url)
    try:
        return db.run_read(lambda s: [int(r[0]) for r in s.execute(text(
            "SELECT event_id FROM order_events WHERE event_id > :a ORDER BY event_id"
        ).bindparams(a=after))])
    finally:
        db.dispose()


def unfinished_orders(url: str) -> int:
    """Orders whose saga has not ended yet (their next events are still to come)."""
    db = Database(url)
    try:
        return int(db.run_read(lambda s: s.scalar(text(
            "SELECT count(*) FROM orders WHERE status = 'PENDING'"))) or 0)
    finally:
        db.dispose()
