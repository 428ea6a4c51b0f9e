"""The settlement pass does work in proportion to what is still unsettled, not to the history.

It runs every minute, its COD half inside SQLite's one writer, where every PlaceOrder waits
behind it: before, it reconciled every parcel a carrier ever carried (10 s at a million orders)
and read the captures due by walking every order delivered. Here the same few unsettled orders
are settled on two files that differ only in how many settled orders lie behind them, and
SQLite's own count of virtual-machine steps (a progress handler, not a clock) must not grow
with that history. The orders are built in bulk through the tables, not through the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from core.domain.order import PaymentMethod
from core.persistence import migrate
from core.persistence.db import Database
from core.persistence.repos import cod as cod_repo
from core.persistence.tables import ORDERS, SHIPMENTS
from core.service import cod, settlement

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DUE = 1100  # what each COD parcel's label asks; each card order's capture too
SMALL, LARGE = 100, 8_000  # settled orders behind the live ones
STEP = 10  # the progress handler is called every STEP virtual-machine instructions

# The live COD orders: name → (its parcels' cash collected, the remittances that pay for it).
# Each remittance is (reference, amount, parcels); "SETTLED-1" is a parcel of the history.
REMITTANCES = (
    ("R-A", DUE, ["A"]),                      # paid in full
    ("R-BC", 2 * DUE - 100, ["B", "C"]),      # short: both its parcels are in doubt
    ("R-E1", DUE, ["E"]), ("R-E2", DUE, ["E"]),  # E remitted twice
    ("R-F", 2 * DUE, ["F", "SETTLED-1"]),     # right total; the settled parcel twice remitted
    ("R-G", DUE, ["G", "NO-SUCH-PARCEL"]),    # right total; a parcel unknown to the carrier
    ("R-H", DUE - 100, ["H"]),                # what H's courier took, short of its label
)
LIVE = {"A": DUE, "B": DUE, "C": DUE, "D": DUE, "E": DUE, "F": DUE, "G": DUE, "H": DUE - 100}
# As reconcile() over the whole history decides them: D was never remitted.
SETTLES = {"A", "F", "G"}


def _order(order_id: str, method: str, status: str, settled: bool, day: int) -> dict[str, Any]:
    at = NOW - day * DAY
    return dict(order_id=order_id, storefront="shop", idempotency_key=order_id, request_hash="h",
                customer_id="c", currency="INR", subtotal_minor=DUE - 100,
                shipping_fee_minor=100, total_minor=DUE, weight_grams=100, ship_to={},
                status=status, inventory_state="released", payment_method=method,
                payment_state="settled" if settled else "cod_collected",
                authorized_minor=DUE, captured_minor=DUE, refunded_minor=0, fc_id="FC-1",
                capture_id=f"cap_{order_id}",  # COD too: remittances settle those
                settled_at=at if settled else None, created_at=at, updated_at=at)


def _shipment(order_id: str, tracking: str, collected: int, day: int) -> dict[str, Any]:
    at = NOW - day * DAY
    return dict(shipment_id=f"shp_{order_id}", order_id=order_id, fc_id="FC-1",
                status="delivered", carrier="sandbox", tracking_number=tracking,
                value_minor=DUE - 100, cod_due_minor=DUE, cod_collected_minor=collected,
                created_at=at, updated_at=at, delivered_at=at)


def _seed(session: Session, history: int) -> None:
    """`history` settled COD orders (remitted 500 a day) and as many settled card orders, then
    the live orders above."""
    settled = [f"ord_settled_{i:06d}" for i in range(1, history + 1)]
    session.execute(insert(ORDERS), [_order(o, PaymentMethod.COD, "DELIVERED", True, 30)
                                     for o in settled])
    session.execute(insert(SHIPMENTS), [_shipment(o, f"SETTLED-{i}", DUE, 30)
                                        for i, o in enumerate(settled, 1)])
    session.execute(insert(ORDERS), [_order(f"ord_card_{i:06d}", PaymentMethod.CARD,
                                            "DELIVERED", True, 30) for i in range(history)])
    days = [[f"SETTLED-{i}" for i in range(n, min(n + 500, history + 1))]
            for n in range(1, history + 1, 500)]
    remittances = [(f"R-{day[0]}", DUE * len(day), day) for day in days]
    session.execute(insert(ORDERS), [_order(f"ord_live_{name}", PaymentMethod.COD, "DELIVERED",
                                            False, 2) for name in LIVE])
    session.execute(insert(SHIPMENTS), [_shipment(f"ord_live_{name}", name, took, 2)
                                        for name, took in LIVE.items()])
    for reference, amount, parcels in [*remittances, *REMITTANCES]:
        cod_repo.add_remittance(session, cod_repo.RemittanceRecord(
            f"rem_{reference}", "sandbox", reference, amount, "INR", NOW - DAY), parcels)
    # Two card orders delivered and captured, not yet settled: the next batch.
    session.execute(insert(ORDERS), [_order(f"ord_due_{i}", PaymentMethod.CARD, "DELIVERED",
                                            False, 1) for i in (1, 2)])


@pytest.fixture
def files(tmp_path) -> Iterator[dict[int, Database]]:  # type: ignore[no-untyped-def]
    """Two SQLite files, alike but for the settled history behind the live orders."""
    out = {}
    for history in (SMALL, LARGE):
        url = f"sqlite:///{tmp_path / f'tote-{history}.db'}"
        migrate.upgrade(url)
        out[history] = Database(url)
        out[history].run_write(lambda s, h=history: _seed(s, h))
    yield out
    for db in out.values():
        db.dispose()


def vm_steps(db: Database, call: Callable[[Session], object]) -> tuple[int, object]:
    """SQLite's virtual-machine instructions to run `call` in a write transaction (to within
    STEP), and what it answered."""
    calls = [0]

    def tick() -> int:
        calls[0] += 1
        return 0  # go on

    def checkout(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        dbapi_conn.set_progress_handler(tick, STEP)

    def checkin(dbapi_conn, record):  # type: ignore[no-untyped-def]
        if dbapi_conn is not None:
            dbapi_conn.set_progress_handler(None, STEP)

    event.listen(db.write_engine, "checkout", checkout)
    event.listen(db.write_engine, "checkin", checkin)
    try:
        answer = db.run_write(call)
    finally:
        event.remove(db.write_engine, "checkout", checkout)
        event.remove(db.write_engine, "checkin", checkin)
    return calls[0] * STEP, answer


def test_the_cod_settlement_pass_reads_the_unsettled_orders_not_the_settled_history(files):
    small, large = (vm_steps(files[h], lambda s: cod.settle_all_reconciled(s, NOW))
                    for h in (SMALL, LARGE))
    expected = [f"ord_live_{name}" for name in sorted(SETTLES)]
    assert small[1] == large[1] == expected
    # 80 × the settled orders (and their remittances) behind it; the same work to within
    # the B-trees' extra level. Reading the history, as reconcile() does, is ~80 × the work.
    assert 0 < large[0] < 1.5 * small[0], (small[0], large[0])


def test_the_captures_due_are_read_without_walking_the_orders_delivered(files):
    small, large = (vm_steps(files[h], settlement.due_batch) for h in (SMALL, LARGE))
    # COD orders delivered and captured, waiting for their carrier's remittance: not the
    # gateway's to settle, nor this read's to walk.
    files[LARGE].run_write(lambda s: s.execute(insert(ORDERS), [
        _order(f"ord_waiting_{i:06d}", PaymentMethod.COD, "DELIVERED", False, 1)
        for i in range(LARGE)]))
    waiting = vm_steps(files[LARGE], settlement.due_batch)
    for _, batch in (small, large, waiting):
        assert isinstance(batch, settlement.SettlementBatch)
        assert batch.capture_ids == ["cap_ord_due_1", "cap_ord_due_2"]
    assert 0 < large[0] < 1.5 * small[0], (small[0], large[0])
    assert waiting[0] < 1.5 * small[0], (small[0], waiting[0])


def test_settlement_decides_each_live_order_as_the_whole_reconciliation_does(files):
    db = files[SMALL]

    def by_reconciliation(session: Session) -> set[str]:
        """The rule, as the report over the carrier's whole history gives it: every parcel
        remitted, none named in a discrepancy."""
        report = cod.reconcile(session, "sandbox", NOW, 7)
        troubled = {t for d in report.discrepancies for t in d.tracking_number.split(",")}
        remitted = {t for r in cod_repo.remittances_of(session, "sandbox")
                    for t in cod_repo.tracking_numbers_paid(session, r.remittance_id)}
        return {name for name in LIVE if name in remitted and name not in troubled}

    assert db.run_read(by_reconciliation) == SETTLES
    settled = db.run_write(lambda s: cod.settle_all_reconciled(s, NOW))
    assert settled == [f"ord_live_{name}" for name in sorted(SETTLES)]
    # A discrepancy on a remittance (short, double, or a short collection) keeps its parcels'
    # orders unsettled on the next pass too.
    assert db.run_write(lambda s: cod.settle_all_reconciled(s, NOW)) == []
