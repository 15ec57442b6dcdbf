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
from psycopg.rows import RowFactory, RowMaker, namedtuple_row, tuple_row
from sqlalchemy import ClauseElement, Connection, Executable
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import DBAPIError

__all__ = ["DriverStatement"]

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
        # so psycopg's named-tuple factory (which reads every column's name again for each
        # execution) is asked once.
        self._named: RowMaker[Any] | None = None

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Every row, each with its columns as attributes (empty for a statement without)."""
        return self._fetch(conn, params, self._named_rows)

    def _named_rows(self, cursor: psycopg.Cursor[Any]) -> RowMaker[Any]:
        named = self._named
        if named is None:
            named = self._named = namedtuple_row(cursor)
        return named

    def tuples(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row as a plain tuple, its columns in the statement's order: for a hot
        statement whose rows are read by position (a tuple costs less than a named one)."""
        return self._fetch(conn, params, tuple_row)

    def _fetch(
        self, conn: Connection, params: Mapping[str, Any], row_factory: RowFactory[Any]
    ) -> list[Any]:
        if conn.dialect.name != "postgresql":
            if self.portable is None:
                raise RuntimeError(f"a PostgreSQL statement on {conn.dialect.name}")
            result = conn.execute(self.portable, dict(params))
            if not result.returns_rows:
                return []
            return list(result) if row_factory is not tuple_row else [tuple(r) for r in result]
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection), "DriverStatement is for PostgreSQL"
        try:
            with driver.cursor(row_factory=row_factory) as cursor:
                cursor.execute(self.sql, {**self.fixed, **params} if self.fixed else params)
                # Whether it gave rows, from the result itself: ``description`` would build
                # a Column object per column (docs/performance.md, item 13).
                answer = cursor.pgresult
                return cursor.fetchall() if answer is not None and answer.nfields else []
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
