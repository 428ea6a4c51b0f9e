"""The hottest statements run on the DBAPI connection (SQLite's, psycopg's), compiled once by
SQLAlchemy.

SQLAlchemy still writes the SQL and converts the values — each column type's own bind and
result processors (UtcDateTime to SQLite's datetime text and back, JSON to text) — but the
per-execution work of `Connection.execute` (cache keys, parameter dicts, events, Row objects)
is skipped: for PlaceOrder's and the saga's small statements that work cost several times what
SQLite itself did. The statement runs inside the transaction the session already holds (the
same DBAPI connection). PostgreSQL through psycopg takes the same path, the statement compiled
for the connection's own dialect (pyformat, with its bind casts): there too `Connection.execute`
was a large share of tote's CPU per order (bench/saga.py --db). Other dialects run the same
statement through `Connection.execute`, and its rows answer the same way (by index, by column
name, `_asdict()`).

On psycopg a statement is sent through core/persistence/pg_pipeline.py: a write whose
answer nobody reads waits and goes with the next statement that is read, or with COMMIT, in one
round trip.

Only documented SQLAlchemy APIs are used: the SQL is compiled for a twin of the connection's
dialect made with `paramstyle="named"` (sqlite3 takes `:name` parameters from a dict, so no
parameter order is needed), each parameter's type comes from `Compiled.binds` and converts
through `TypeEngine.bind_processor`, each selected column through `result_processor`.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Delete, Insert, Select, Update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.default import DefaultDialect

from core.persistence import pg_pipeline

_Processor = Callable[[Any], Any] | None
_REQUIRED = object()
# One named-paramstyle twin per dialect class: it only writes SQL text, never connects.
_NAMED: dict[type[Dialect], Dialect] = {}


def _direct(dialect: Dialect) -> bool:
    """Whether statements run on this dialect's DBAPI connection (else Connection.execute)."""
    return dialect.name == "sqlite" or dialect.driver == "psycopg"


def _named_twin(dialect: Dialect) -> Dialect:
    if dialect.name != "sqlite":
        return dialect  # psycopg takes the dialect's own pyformat parameters from a dict
    twin = _NAMED.get(type(dialect))
    if twin is None:
        if not isinstance(dialect, DefaultDialect):
            raise ValueError(f"{dialect.name}: HotStatement needs a DefaultDialect")
        twin = _NAMED[type(dialect)] = type(dialect)(paramstyle="named")
    return twin


T = TypeVar("T")
U = TypeVar("U")


class Soon(Generic[T]):
    """A read's answer, asked for when needed (HotStatement.soon); `get` sends it if it has not
    gone yet, once."""

    __slots__ = ("_fetch", "_value", "_done")

    def __init__(self, fetch: Callable[[], T]) -> None:
        self._fetch = fetch
        self._value: T | None = None
        self._done = False

    @classmethod
    def ready(cls, value: T) -> Soon[T]:
        made = cls(lambda: value)
        made._value, made._done = value, True
        return made

    def get(self) -> T:
        if not self._done:
            self._value, self._done = self._fetch(), True
        return self._value  # type: ignore[return-value]  # set above (T may include None)

    def then(self, make: Callable[[T], U]) -> Soon[U]:
        """The answer turned into what the caller wants (a record), when it is asked for."""
        return Soon(lambda: make(self.get()))


class _Compiled:
    __slots__ = ("sql", "binds", "results", "row")

    def __init__(self, sql: str, binds: tuple[tuple[str, Any, _Processor], ...],
                 results: tuple[_Processor, ...] | None, row: Any) -> None:
        self.sql = sql
        # (parameter name, default when the caller leaves it out, bind processor)
        self.binds = binds
        # None: not known until the first rows arrive (psycopg's processors need each
        # column's type as the server describes it)
        self.results = results if results is None or any(results) else ()
        self.row = row  # a namedtuple of the selected columns' keys, or None


class HotStatement:
    """A Core statement with named bind parameters, run on the DBAPI connection on SQLite and
    on PostgreSQL through psycopg.

    `keys`: the columns an INSERT or UPDATE sets (a column left out that has a constant
    default gets it, as SQLAlchemy would do). Without `keys` an INSERT or UPDATE takes its
    columns from each call's values, compiled once per set of keys.
    """

    def __init__(self, stmt: Insert | Update | Delete | Select[Any],
                 keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.keys = None if keys is None else tuple(keys)
        self._per_keys = keys is None and isinstance(stmt, Insert | Update)
        self._cache: dict[Any, tuple[Dialect, _Compiled]] = {}
        self._row: Any = None
        if isinstance(stmt, Select):
            self._row = namedtuple("Row", [c.key for c in stmt.selected_columns],  # type: ignore[misc]  # a row type made per statement, at run time
                                   rename=True)

    def _compiled(self, dialect: Dialect, values: Mapping[str, Any]) -> _Compiled:
        keys = tuple(values) if self._per_keys else self.keys
        hit = self._cache.get((id(dialect), keys))
        if hit is not None and hit[0] is dialect:
            return hit[1]
        compiled = self.stmt.compile(dialect=_named_twin(dialect),
                                     column_keys=list(keys) if keys else None)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("HotStatement cannot run an expanding IN; one value at a time")
        table = getattr(self.stmt, "table", None)
        binds = []
        # `params` names each parameter as the SQL spells it (once, however often it is used).
        for name in compiled.params:
            if not name.isidentifier():
                raise ValueError(f"{name!r}: HotStatement needs plain parameter names")
            bind = compiled.binds[name]
            default: Any = _REQUIRED
            if (keys is not None and name not in keys and table is not None
                    and name in table.c and isinstance(self.stmt, Insert)):
                column_default = table.c[name].default
                if column_default is None or not column_default.is_scalar:
                    # A server default or a Python callable: leave no column to chance.
                    raise ValueError(f"{table.name}.{name} must be given to this statement")
                default = column_default.arg
            elif not bind.required:
                default = bind.effective_value  # a literal written into the statement
            binds.append((name, default,
                          bind.type.dialect_impl(dialect).bind_processor(dialect)))
        results: tuple[_Processor, ...] | None = ()
        if isinstance(self.stmt, Select) and dialect.name != "sqlite":
            results = None
        elif isinstance(self.stmt, Select):
            results = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None)
                            for col in self.stmt.selected_columns)
        made = _Compiled(compiled.string, tuple(binds), results, self._row)
        self._cache[(id(dialect), keys)] = (dialect, made)
        return made

    @staticmethod
    def _params(compiled: _Compiled, values: Mapping[str, Any]) -> dict[str, Any]:
        params = {}
        for name, default, process in compiled.binds:
            value = values[name] if default is _REQUIRED else values.get(name, default)
            params[name] = value if process is None or value is None else process(value)
        return params

    @staticmethod
    def _driver(conn: Connection) -> Any:
        driver = conn.connection.driver_connection
        if driver is None:
            raise RuntimeError("the connection was closed")
        return driver

    def _run(self, conn: Connection, values: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._compiled(conn.dialect, values)
        params = self._params(compiled, values)
        if conn.dialect.name == "sqlite":
            return compiled, self._driver(conn).execute(compiled.sql, params)
        # psycopg: sent now, with whatever waits to be sent (pg_pipeline.py)
        return compiled, pg_pipeline.send(conn, (compiled.sql, params))

    def execute(self, conn: Connection, values: Mapping[str, Any] | None = None) -> list[Any]:
        """Run once; a SELECT's rows (by index, by column name), else []."""
        values = values or {}
        if not _direct(conn.dialect):
            result = conn.execute(self.stmt, dict(values))
            return list(result) if result.returns_rows else []
        if self._row is None and conn.dialect.name != "sqlite":
            # A write whose answer nobody reads: sent with the next statement that is read,
            # or with COMMIT (pg_pipeline.py).
            compiled = self._compiled(conn.dialect, values)
            pg_pipeline.later(conn, compiled.sql, self._params(compiled, values))
            return []
        compiled, cursor = self._run(conn, values)
        if compiled.row is None:
            return []
        return self._rows(conn, compiled, cursor)

    def soon(self, conn: Connection, values: Mapping[str, Any] | None = None,
             ) -> Soon[list[Any]]:
        """A SELECT's rows, read with the next statement whose answer is needed: on psycopg
        several reads a use case knows it will need go in one round trip (pg_pipeline.soon);
        elsewhere they are read now."""
        values = values or {}
        if self._row is None:
            raise ValueError("soon() reads: use execute() for a write")
        if not _direct(conn.dialect) or conn.dialect.name == "sqlite":
            return Soon.ready(self.execute(conn, values))
        compiled = self._compiled(conn.dialect, values)
        slot = pg_pipeline.soon(conn, compiled.sql, self._params(compiled, values))
        return Soon(lambda: self._rows(conn, compiled, pg_pipeline.answer(conn, slot)))

    def _rows(self, conn: Connection, compiled: _Compiled, cursor: Any) -> list[Any]:
        assert compiled.row is not None
        make = compiled.row._make
        processors = compiled.results
        if processors is None:  # psycopg: the first rows' description gives each column's type
            assert isinstance(self.stmt, Select)
            types = [d.type_code for d in cursor.description]
            found = tuple(col.type.dialect_impl(conn.dialect).result_processor(conn.dialect, code)
                          for col, code in zip(self.stmt.selected_columns, types, strict=True))
            processors = compiled.results = found if any(found) else ()
        if processors:
            return [make([v if p is None or v is None else p(v)
                          for v, p in zip(row, processors, strict=True)])
                    for row in cursor.fetchall()]
        return [make(row) for row in cursor.fetchall()]

    def rowcount(self, conn: Connection, values: Mapping[str, Any]) -> int:
        """Run an UPDATE or DELETE once; the rows it matched."""
        if not _direct(conn.dialect):
            return conn.execute(self.stmt, dict(values)).rowcount
        return int(self._run(conn, values)[1].rowcount)

    def executemany(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run for each set of values (an INSERT of several rows; all with the same keys)."""
        rows = list(rows)
        if not rows:
            return
        if not _direct(conn.dialect):
            conn.execute(self.stmt, [dict(r) for r in rows])
            return
        compiled = self._compiled(conn.dialect, rows[0])
        params = [self._params(compiled, r) for r in rows]
        if conn.dialect.name == "sqlite":
            self._driver(conn).executemany(compiled.sql, params)
            return
        for one in params:  # psycopg: sent with the next statement read, or with COMMIT
            pg_pipeline.later(conn, compiled.sql, one)
