"""The hottest statements run on SQLite's DBAPI connection, compiled once by SQLAlchemy.

SQLAlchemy still writes the SQL and converts the values — each column type's own bind and
result processors (UtcDateTime to SQLite's datetime text and back, JSON to text) — but the
per-execution work of `Connection.execute` (cache keys, parameter dicts, events, Row objects)
is skipped: for PlaceOrder's five small statements that work cost several times what SQLite
itself did. The statement runs inside the transaction the session already holds (the same
DBAPI connection). Other dialects run the same statement through `Connection.execute`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Select, Update
from sqlalchemy.engine import Connection, Dialect

_Processor = Callable[[Any], Any] | None


class _Compiled:
    __slots__ = ("sql", "binds", "results")

    def __init__(self, sql: str, binds: tuple[tuple[str, Any, _Processor], ...],
                 results: tuple[_Processor, ...]) -> None:
        self.sql = sql
        # (parameter name, default when the caller leaves it out, bind processor)
        self.binds = binds
        self.results = results


_REQUIRED = object()


class HotStatement:
    """A Core INSERT, UPDATE or SELECT with named bind parameters, run as plain tuples.

    `keys`: the columns an INSERT or UPDATE sets (each call must give them, except columns
    with a constant default, which is filled in as SQLAlchemy would).
    """

    def __init__(self, stmt: Insert | Update | Select[Any], keys: Sequence[str] = ()) -> None:
        self.stmt = stmt
        self.keys = tuple(keys)
        self._by_dialect: dict[int, tuple[Dialect, _Compiled]] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        hit = self._by_dialect.get(id(dialect))
        if hit is not None and hit[0] is dialect:
            return hit[1]
        compiled = self.stmt.compile(dialect=dialect, column_keys=list(self.keys) or None)
        if not dialect.positional or compiled.positiontup is None:
            raise ValueError(f"{dialect.name}: HotStatement needs a positional paramstyle")
        table = getattr(self.stmt, "table", None)
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            default: Any = _REQUIRED
            if name not in self.keys and table is not None and name in table.c:
                column_default = table.c[name].default
                if column_default is None or not column_default.is_scalar:
                    # A server default or a Python callable: leave no column to chance.
                    raise ValueError(f"{table.name}.{name} must be given to this statement")
                default = column_default.arg
            binds.append((name, default,
                          bind.type.dialect_impl(dialect).bind_processor(dialect)))
        results: tuple[_Processor, ...] = ()
        if isinstance(self.stmt, Select):
            results = tuple(col.type.dialect_impl(dialect).result_processor(dialect, None)
                            for col in self.stmt.selected_columns)
        made = _Compiled(str(compiled), tuple(binds), results)
        self._by_dialect[id(dialect)] = (dialect, made)
        return made

    def _params(self, compiled: _Compiled, values: Mapping[str, Any]) -> list[Any]:
        params = []
        for name, default, process in compiled.binds:
            value = values[name] if default is _REQUIRED else values.get(name, default)
            params.append(value if process is None or value is None else process(value))
        return params

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once; a SELECT's rows as tuples in the order of its columns."""
        if conn.dialect.name != "sqlite":
            result = conn.execute(self.stmt, dict(values))
            return [tuple(row) for row in result] if result.returns_rows else []
        compiled = self._compiled(conn.dialect)
        cursor = conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            compiled.sql, self._params(compiled, values))
        if not compiled.results:
            return []
        rows = cursor.fetchall()
        if any(compiled.results):
            return [tuple(v if p is None or v is None else p(v)
                          for v, p in zip(row, compiled.results, strict=True)) for row in rows]
        return rows

    def executemany(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run for each set of values (an INSERT of several rows)."""
        if conn.dialect.name != "sqlite":
            conn.execute(self.stmt, [dict(r) for r in rows])
            return
        compiled = self._compiled(conn.dialect)
        conn.connection.driver_connection.executemany(  # type: ignore[union-attr]
            compiled.sql, [self._params(compiled, r) for r in rows])
