"""core/persistence/pg_pipeline.py: on PostgreSQL the writes nobody reads back, and each
transaction's BEGIN, wait for the next statement that is read (or COMMIT) and go with it in one
round trip — counted here in libpq's own trace of the protocol — while the transaction means
exactly what it meant: the same statements, in the same order, committed or not at all."""

import os
import tempfile
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from core.persistence.db import Database
from core.persistence.direct import HotStatement
from core.persistence.models import Product
from tests.unit.conftest import WHEN

pytestmark = pytest.mark.postgres

PRODUCTS = Product.__table__
ADD = HotStatement(insert(PRODUCTS), ["sku", "name", "gtin", "unit_price_minor", "currency",
                                      "weight_grams", "updated_at"])
READ = HotStatement(select(PRODUCTS.c.sku).where(PRODUCTS.c.sku == bindparam("sku")))
ROW = {"name": "Cup", "gtin": "4006381333955", "unit_price_minor": 1, "currency": "INR",
       "weight_grams": 1, "updated_at": WHEN}


@pytest.fixture
def db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    with database.write() as s:
        s.execute(PRODUCTS.delete())
    yield database
    database.dispose()


def _skus(db: Database) -> set[str]:
    with db.read() as s:
        return set(s.scalars(select(PRODUCTS.c.sku)))


class _RoundTrips:
    """How many times the server said it was ready for the next query (libpq's trace of the
    protocol: one ReadyForQuery per Sync, that is per round trip) on one session's
    connection."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+")
        self._pgconn = None

    def start(self, session) -> None:  # type: ignore[no-untyped-def]
        self._pgconn = session.connection().connection.driver_connection.pgconn
        self._pgconn.trace(self._file.fileno())

    def count(self) -> int:
        assert self._pgconn is not None
        self._pgconn.untrace()
        self._file.flush()
        self._file.seek(0, os.SEEK_SET)
        with self._file:
            return sum(1 for line in self._file if "ReadyForQuery" in line)


def test_a_transaction_of_writes_is_one_round_trip_with_its_begin_and_commit(db):
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)  # (connecting is not a statement: nothing is sent yet)
        conn = s.connection()
        ADD.execute(conn, {"sku": "CUP", **ROW})
        ADD.executemany(conn, [{"sku": "JUG", **ROW}, {"sku": "MUG", **ROW}])
    assert trips.count() == 1
    assert _skus(db) == {"CUP", "JUG", "MUG"}


def test_a_read_takes_the_waiting_writes_with_it_and_sees_them(db):
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        conn = s.connection()
        ADD.execute(conn, {"sku": "CUP", **ROW})
        assert READ.execute(conn, {"sku": "CUP"}) == [("CUP",)]  # BEGIN, INSERT, SELECT: one
        ADD.execute(conn, {"sku": "JUG", **ROW})
        # A statement SQLAlchemy runs itself (the ORM here) sends what waits first.
        assert s.get(Product, "JUG") is not None
        ADD.execute(conn, {"sku": "MUG", **ROW})
    # the SELECT with what waited; the write before the ORM's read; its read; the last write
    # with COMMIT
    assert trips.count() == 4
    assert _skus(db) == {"CUP", "JUG", "MUG"}


def test_a_waiting_write_that_fails_fails_the_commit_and_nothing_is_committed(db):
    with db.write() as s:
        ADD.execute(s.connection(), {"sku": "CUP", **ROW})
    with pytest.raises(IntegrityError), db.write() as s:
        conn = s.connection()
        ADD.execute(conn, {"sku": "JUG", **ROW})
        ADD.execute(conn, {"sku": "CUP", **ROW})  # a second CUP: the primary key refuses it
    assert _skus(db) == {"CUP"}
    with db.write() as s:  # the pooled connection is clean: nothing of that transaction left
        ADD.execute(s.connection(), {"sku": "TEE", **ROW})
    assert _skus(db) == {"CUP", "TEE"}


def test_a_rolled_back_transaction_sends_nothing_and_leaves_nothing_waiting(db):
    trips = _RoundTrips()
    with pytest.raises(RuntimeError), db.write() as s:
        trips.start(s)
        ADD.execute(s.connection(), {"sku": "CUP", **ROW})
        raise RuntimeError("the handler failed")
    assert trips.count() == 0
    with db.write() as s:
        ADD.execute(s.connection(), {"sku": "JUG", **ROW})
    assert _skus(db) == {"JUG"}


def test_a_transaction_that_runs_nothing_sends_nothing(db):
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
    assert trips.count() == 0


def test_reads_asked_for_soon_go_together_with_the_first_one_needed(db):
    """A use case that knows which rows it will need asks for them first (`soon`): the first
    answer it waits for brings every one of them, each with its own rows."""
    with db.write() as s:
        ADD.executemany(s.connection(), [{"sku": sku, **ROW} for sku in ("CUP", "JUG", "MUG")])
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        conn = s.connection()
        cup, jug, mug = (READ.soon(conn, {"sku": sku}) for sku in ("CUP", "JUG", "MUG"))
        assert jug.get() == [("JUG",)]
        assert cup.get() == [("CUP",)] and mug.get() == [("MUG",)]
        assert trips.count() == 1  # the three reads (and the BEGIN) in one round trip


def test_a_read_asked_for_soon_sees_the_writes_made_before_it(db):
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        conn = s.connection()
        ADD.execute(conn, {"sku": "CUP", **ROW})
        cup = READ.soon(conn, {"sku": "CUP"})
        ADD.execute(conn, {"sku": "JUG", **ROW})
        jug = READ.soon(conn, {"sku": "JUG"})  # made after JUG's insert: sees it
        assert cup.get() == [("CUP",)] and jug.get() == [("JUG",)]
    assert trips.count() == 2  # BEGIN, both inserts, both reads; then COMMIT
    assert _skus(db) == {"CUP", "JUG"}


def test_a_read_asked_for_soon_that_nobody_needs_is_never_sent(db):
    trips = _RoundTrips()
    with db.write() as s:
        trips.start(s)
        conn = s.connection()
        READ.soon(conn, {"sku": "CUP"})  # the use case turned out not to need it
        ADD.execute(conn, {"sku": "CUP", **ROW})
    assert trips.count() == 1  # BEGIN, the insert, COMMIT: the read went nowhere
    assert _skus(db) == {"CUP"}
    with db.write() as s:  # a transaction of unneeded reads only sends nothing at all
        trips = _RoundTrips()
        trips.start(s)
        READ.soon(s.connection(), {"sku": "CUP"})
    assert trips.count() == 0


def test_a_read_asked_for_soon_fails_with_the_statement_that_sends_it(db):
    """A failure among what waits (a write the primary key refuses) is raised where the
    reads are asked for, and none of them answers afterwards."""
    with db.write() as s:
        ADD.execute(s.connection(), {"sku": "CUP", **ROW})
    with pytest.raises(IntegrityError), db.write() as s:
        conn = s.connection()
        ADD.execute(conn, {"sku": "CUP", **ROW})
        READ.soon(conn, {"sku": "CUP"}).get()
    assert _skus(db) == {"CUP"}
