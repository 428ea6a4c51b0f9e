"""ListOrders' pages on SQLite as tote leaves the file (no ANALYZE statistics): a storefront's
page of one customer is a range of that customer's orders, whichever index SQLite met first.

Without statistics SQLite prices "storefront = ?" and "customer_id = ?" alike (about ten rows
each), so between ix_orders_storefront_order and ix_orders_customer_order it took whichever its
schema listed first, and that order is whatever Alembic's batch copy of orders (migrations 0009
and 0010) happened to recreate: on a copy of the million-order bench database the storefront
index, and a page of one customer walked every order of the storefront (325 ms p50 where 4 ms
was usual). The test makes each index the one SQLite meets first in turn.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from core.persistence import migrate
from core.persistence.db import Database
from core.service import orders
from tests.sqlite_plans import assert_indexed, plan, statements_of

LIST_INDEXES = ("ix_orders_storefront_order", "ix_orders_customer_order",
                "ix_orders_status_order", "ix_orders_fc_order")


def listing(**kw: object) -> Callable[[Session], object]:
    args: dict[str, object] = dict(storefront=None, status=None, fc_id="", customer_id="",
                                   page_size=50, page_token="")
    args.update(kw)
    return lambda s: orders.list_orders(s, **args)  # type: ignore[arg-type]


def met_first(url: str, index: str) -> Database:
    """The database with `index` made anew: the newest index is the one SQLite meets first."""
    db = Database(url)
    with db.write_engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        (sql,) = raw.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
        raw.execute(f"DROP INDEX {index}")  # a name from LIST_INDEXES, not input
        raw.execute(sql)
    return db


@pytest.mark.parametrize("first", LIST_INDEXES)
def test_a_storefronts_page_of_one_customer_is_a_range_of_that_customers_orders(tmp_path, first):
    url = f"sqlite:///{tmp_path / 'tote.db'}"
    migrate.upgrade(url)
    db = met_first(url, first)
    try:
        page = listing(storefront="shop-1", customer_id="cust-7")
        for sql in statements_of(db, page):
            if sql.lstrip().startswith("SELECT orders.order_id"):
                steps = plan(db, sql)
                assert any(step.startswith("SEARCH orders") and "customer_id=?" in step
                           for step in steps), f"{sql}\n" + "\n".join(steps)
        assert_indexed(db, page)
        # A supervisor's page of one customer (every storefront) too.
        assert_indexed(db, listing(customer_id="cust-7"))
    finally:
        db.dispose()
