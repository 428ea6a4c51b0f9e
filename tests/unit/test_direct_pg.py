"""core/persistence/direct.py on PostgreSQL through psycopg: the hot statements run on the DBAPI
connection there too (no `Connection.execute` per statement), and every test of
tests/unit/test_direct.py holds on a fresh PostgreSQL database as it does on SQLite."""

from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, event, insert, select

from core.persistence.db import Database
from core.persistence.direct import HotStatement
from core.persistence.models import Product
from tests.unit.conftest import WHEN

# The SQLite tests, collected again here with this module's `db` (a PostgreSQL database).
from tests.unit.test_direct import (  # noqa: F401
    test_a_constant_column_default_is_filled_in_and_a_callable_one_must_be_given,
    test_a_placed_order_reads_back_through_the_orm_as_it_was_written,
    test_a_retry_finds_the_order_by_its_key_and_a_different_body_is_refused,
    test_a_select_returns_tuples_with_each_columns_result_processing,
    test_a_value_written_into_the_statement_needs_no_parameter_and_a_repeated_one_binds_once,
    test_an_expanding_in_is_refused_with_what_to_do_instead,
    test_an_unknown_sku_names_its_line_and_writes_nothing,
    test_rows_answer_by_name_and_an_update_takes_its_columns_from_each_call,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    """The migrated PostgreSQL database with only the two products (MUG, TEE) of the SQLite
    fixture: every test starts from the same rows."""
    database = Database(pg_url)
    with database.write() as s:
        for table in ("order_events", "order_lines", "orders", "stock_levels",
                      "fulfillment_centers", "products"):
            s.execute(Product.metadata.tables[table].delete())
        s.add(Product(sku="MUG", name="Mug", gtin="4006381333931", unit_price_minor=49_900,
                      currency="INR", weight_grams=350, updated_at=WHEN))
        s.add(Product(sku="TEE", name="Tee", gtin="4006381333948", unit_price_minor=79_900,
                      currency="INR", weight_grams=200, updated_at=WHEN))
    yield database
    database.dispose()


def test_hot_statements_skip_connection_execute_on_psycopg(db):
    """The CPU this path saves is Connection.execute's: none of its events fire, and the rows
    still come back converted by each column's type."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    products = Product.__table__
    read = HotStatement(select(products.c.sku, products.c.updated_at)
                        .where(products.c.sku == bindparam("sku")))
    add = HotStatement(insert(products), ["sku", "name", "gtin", "unit_price_minor", "currency",
                                          "weight_grams", "updated_at"])
    row = {"name": "Cup", "gtin": "4006381333955", "unit_price_minor": 1, "currency": "INR",
           "weight_grams": 1, "updated_at": WHEN}
    event.listen(db.write_engine, "before_cursor_execute", note)
    try:
        with db.write() as s:
            conn = s.connection()
            add.executemany(conn, [{"sku": "CUP", **row}, {"sku": "JUG", **row}])
            assert read.execute(conn, {"sku": "JUG"}) == [("JUG", WHEN)]
    finally:
        event.remove(db.write_engine, "before_cursor_execute", note)
    # (The transaction's own BEGIN, with its timeouts, is tote's: core/persistence/db.py.)
    assert [q for q in seen if not q.startswith("BEGIN")] == []
    with db.read() as s:
        assert s.get(Product, "CUP") is not None and s.get(Product, "JUG") is not None


def test_psycopg_errors_reach_callers_as_sqlalchemy_raises_them(db):
    """PlaceOrder catches IntegrityError (two replicas racing on one idempotency key); the
    retry catches OperationalError and the pool must not hand out a dropped connection."""
    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError

    products = Product.__table__
    add = HotStatement(insert(products), ["sku", "name", "gtin", "unit_price_minor", "currency",
                                          "weight_grams", "updated_at"])
    row = {"sku": "MUG", "name": "Mug", "gtin": "1", "unit_price_minor": 1, "currency": "INR",
           "weight_grams": 1, "updated_at": WHEN}
    with pytest.raises(IntegrityError), db.write() as s:
        add.execute(s.connection(), row)
    with pytest.raises(IntegrityError), db.write() as s:
        add.executemany(s.connection(), [row])

    probe = HotStatement(select(products.c.sku).where(products.c.sku == bindparam("sku")))
    url = db.write_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with pytest.raises(OperationalError) as caught, db.read() as s:
        conn = s.connection()
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        probe.execute(conn, {"sku": "MUG"})
    assert caught.value.connection_invalidated
    with db.read() as s:  # the pool hands out a live connection again
        assert probe.execute(s.connection(), {"sku": "MUG"}) == [("MUG",)]


def test_float_columns_come_back_as_floats(db):
    """psycopg's Float processor needs the column's type as the server describes it: the
    routing step reads every FC's place through this statement."""
    from core.persistence.repos import routing
    from core.service.catalog import FcData, upsert_fc

    with db.write() as s:
        upsert_fc(s, FcData("FC-1", "One", 12.97, 77.59, 16, 10, {}))
    for _ in range(2):  # the first rows find the processors, later ones reuse them
        with db.read() as s:
            (site,) = routing.sites(s.connection())
        assert (site.fc_id, site.latitude, site.longitude) == ("FC-1", 12.97, 77.59)
        assert isinstance(site.latitude, float)
