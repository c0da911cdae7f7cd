"""Core statements run straight at the driver: for the few queries every request runs.

SQLAlchemy's execution machinery costs more than these indexed lookups do in SQLite. A
`Prepared` statement is still written with SQLAlchemy Core, compiled once per dialect, then
handed to the DBAPI cursor of the caller's connection, inside the caller's transaction.
Rows come back as tuples with the types the ORM would give (dates, booleans, JSON).
Parameters must already be what the driver stores: strings, numbers, booleans, bytes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeEngine

from tutela.db import driver, statements_alone

__all__ = ["Prepared", "fetch_literal"]

Convert = Callable[[Any], Any] | None


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the parameters, in position order where the driver wants that
    positional: bool
    literals: dict[str, Any]  # values written into the statement (`id == 1`)
    returns_rows: bool
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, converter)


def _converter(column_type: TypeEngine, dialect: Dialect) -> Convert:
    """How a raw value of this column becomes what the ORM would return (None: as is)."""
    if dialect.name != "sqlite":
        return None  # psycopg returns dates, booleans and JSON as Python values
    if isinstance(column_type, DateTime):
        return datetime.fromisoformat
    if isinstance(column_type, Date):
        return date.fromisoformat
    if isinstance(column_type, Boolean):
        return bool
    if isinstance(column_type, JSON):
        return orjson.loads
    return None


def _converted(row: tuple, conversions: tuple[tuple[int, Callable[[Any], Any]], ...]) -> tuple:
    values = list(row)
    for index, convert in conversions:
        if values[index] is not None:
            values[index] = convert(values[index])
    return tuple(values)


class Prepared:
    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            with self._lock:
                done = self.statement.compile(dialect=dialect)
                columns = getattr(self.statement, "selected_columns", ())
                converters = [(i, _converter(c.type, dialect)) for i, c in enumerate(columns)]
                compiled = self._compiled[dialect.name] = _Compiled(
                    str(done),
                    tuple(done.positiontup if done.positional else done.params),
                    done.positional,
                    {k: v for k, v in done.params.items() if v is not None},
                    bool(columns),
                    tuple((i, f) for i, f in converters if f is not None),
                )
        return compiled

    def rows(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Run the statement in the connection's transaction; every row it returns."""
        return self._run(driver(connection), connection.dialect, params)

    def first_alone(self, engine: Engine, params: Mapping[str, Any] | None = None) -> tuple | None:
        """The first row of a read that is one statement, on a pooled connection and in no
        transaction of its own: one SELECT reads one snapshot. For the key every request
        looks up, where opening and ending a transaction costs more than the query
        (`db.statements_alone`)."""
        raw = engine.raw_connection()
        try:
            with statements_alone(raw.driver_connection, engine.dialect):
                rows = self._run(raw.driver_connection, engine.dialect, params)
        finally:
            raw.close()  # back to the pool
        return rows[0] if rows else None

    def _run(self, dbapi, dialect: Dialect, params: Mapping[str, Any] | None) -> list[tuple]:
        sql, names, positional, literals, returns_rows, conversions = self._for(dialect)
        params = {**literals, **params} if params else literals
        if positional:
            args: tuple | dict = tuple(params[name] for name in names)
        else:
            args = {name: params[name] for name in names}
        cursor = dbapi.cursor()
        try:
            cursor.execute(sql, args)
            rows = cursor.fetchall() if returns_rows else []
        finally:
            cursor.close()
        if conversions:
            rows = [_converted(row, conversions) for row in rows]
        return rows

    def first(
        self, connection: Connection, params: Mapping[str, Any] | None = None
    ) -> tuple | None:
        rows = self.rows(connection, params)
        return rows[0] if rows else None


def fetch_literal(connection: Connection, statement: Executable) -> list[tuple]:
    """Every row of a one-off statement whose parameters are all known values (dates, names
    from the policy), written into its text: for queries returning many rows, which
    SQLAlchemy's result objects would handle one by one."""
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = driver(connection).cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()
