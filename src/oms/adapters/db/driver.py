"""The statements of every order intake, run on PostgreSQL straight through psycopg.

SQLAlchemy builds each statement once (so column lists stay those of the tables); running
it through SQLAlchemy then costs more client CPU than PostgreSQL needs to answer it: an
execution context, result metadata rebuilt from the cursor description, row processors
(about twice the client CPU of psycopg alone for the intake's small statements: see
docs/performance.md, item 3).

On SQLite the statement runs through SQLAlchemy as before: the statement itself when it
is portable, else the ``portable`` one given beside it (SQLite has no arrays, so a list
parameter there is an expanding ``IN``).

The statement runs on the same connection and in the same transaction as the rest of the
unit of work (SQLAlchemy began it; psycopg has it open). Values come back as psycopg reads
them, which is what the repositories' row mappings expect: the session's time zone is UTC
(``oms.adapters.db.engine``), so times are aware UTC as ``UtcDateTime`` gives them; numeric
is ``Decimal``, json is parsed, uuid is ``UUID``. Errors are raised as SQLAlchemy's, so the
unit of work tells a deadlock (retried) from anything else exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import RowMaker, namedtuple_row, tuple_row
from sqlalchemy import ClauseElement, Connection, Executable
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["DriverStatement"]

_CURSOR = "_oms_statement_cursor"


def _cursor_of(driver: psycopg.Connection[Any]) -> psycopg.Cursor[tuple[Any, ...]]:
    """The connection's cursor for these statements, made on its first one and kept with
    the connection (one thread uses a pooled connection at a time).

    A cursor made per statement cost its making and closing, and it looked up the dumper
    of every parameter's type and the loader of every column's type again (a cursor keeps
    those it found): a visible share of a call's CPU over a return's twenty statements
    (docs/performance.md). The cursor keeps its last result until the next statement."""
    cursor: psycopg.Cursor[tuple[Any, ...]] | None = getattr(driver, _CURSOR, None)
    if cursor is None or cursor.closed:
        cursor = driver.cursor(row_factory=tuple_row)
        setattr(driver, _CURSOR, cursor)
    return cursor


_DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's own


class DriverStatement:
    """A statement compiled once for psycopg and run on the connection's psycopg cursor on
    PostgreSQL; through SQLAlchemy (``portable``, or the statement itself) elsewhere."""

    def __init__(
        self, statement: ClauseElement | str, *, portable: Executable | None = None
    ) -> None:
        if portable is None and isinstance(statement, Executable):
            portable = statement
        self.portable = portable
        # The values the statement carries itself (a LIMIT, a status it filters on), bound
        # with every call as SQLAlchemy would; the caller's parameters fill in the rest.
        self.fixed: dict[str, Any] = {}
        if isinstance(statement, str):
            self.sql = statement
        else:
            compiled = statement.compile(dialect=_DIALECT)
            self.sql = str(compiled)
            self.fixed = {name: v for name, v in compiled.params.items() if v is not None}
        if "POSTCOMPILE" in self.sql:
            raise ValueError("expanding parameters need SQLAlchemy: use = ANY(array) instead")
        # How its rows become named tuples: the statement's columns are those of its text,
        # so the row class psycopg builds for them is asked for once.
        self._named: RowMaker[Any] | None = None

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, each with its columns as attributes (empty for a statement without)."""
        return self._fetch(conn, params, True)

    def tuples(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row as a plain tuple, its columns in the statement's order: for a hot
        statement whose rows are read by position (a tuple costs less than a named one)."""
        return self._fetch(conn, params, False)

    def _fetch(self, conn: Connection, params: Mapping[str, Any], named: bool) -> list[Any]:
        if conn.dialect.name != "postgresql":
            if self.portable is None:
                raise RuntimeError(f"a PostgreSQL statement on {conn.dialect.name}")
            result = conn.execute(self.portable, dict(params))
            if not result.returns_rows:
                return []
            return list(result) if named else [tuple(r) for r in result]
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection), "DriverStatement is for PostgreSQL"
        try:
            cursor = _cursor_of(driver)
            cursor.execute(self.sql, {**self.fixed, **params} if self.fixed else params)
            # Whether it gave rows, from the result itself: ``description`` would build
            # a Column object per column (docs/performance.md, item 13).
            answer = cursor.pgresult
            if answer is None or not answer.nfields:
                return []
            found = cursor.fetchall()
            if not named:
                return found
            make = self._named
            if make is None:
                make = self._named = namedtuple_row(cursor)
            return list(map(make, found))
        except psycopg.Error as error:
            raise DBAPIError.instance(
                self.sql, dict(params), error, psycopg.Error, connection_invalidated=driver.closed
            ) from error

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def one(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The one row; a statement that must give one and gave none is a bug here."""
        found = self.rows(conn, params)
        if len(found) != 1:
            raise LookupError(f"expected one row, got {len(found)}: {self.sql[:80]}")
        return found[0]

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any | None:
        row = self.first(conn, params)
        return None if row is None else row[0]
