"""Planner statistics on a PostgreSQL server that does not gather them (autovacuum off).

PostgreSQL plans every statement from the statistics ``ANALYZE`` gathers, and autovacuum
runs ``ANALYZE`` on a table once enough of it changed. On a server with autovacuum off
nothing does, and the planner guesses: ``tenant_id = $1`` then matches one row in two
hundred, so reading three SKUs' stock became a scan of the tenant's every stock row with
the three kept, and the reservation's UPDATE a hash join over all of them (1,500 rows
read for 3 under bench/intake.py, about a third of PostgreSQL's CPU per order).

``StatisticsKeeper`` fills that gap. When the server's ``autovacuum`` is off, every
``OMS_DB_ANALYZE_SECONDS`` it analyzes the tables of the current schema that changed past
autovacuum's own threshold (``autovacuum_analyze_threshold`` rows plus
``autovacuum_analyze_scale_factor`` of the table), one process of the deployment at a time
(a transaction-level advisory lock; the others skip that round). With autovacuum on it
does nothing: the server keeps its statistics itself.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, create_engine, text

__all__ = ["StatisticsKeeper", "analyze_due", "autovacuum_is_on"]

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: one analysing process per database at a time.
ADVISORY_KEY = 0x6F6D735F73746174  # "oms_stat"

_DUE = text("""
SELECT quote_ident(s.relname) AS name
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
  AND s.n_mod_since_analyze > 0
  AND s.n_mod_since_analyze >= current_setting('autovacuum_analyze_threshold')::float8
      + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
ORDER BY s.relname
""")


def autovacuum_is_on(conn: Connection) -> bool:
    return bool(conn.scalar(text("SELECT current_setting('autovacuum')::boolean")))


def analyze_due(conn: Connection) -> list[str] | None:
    """Analyze every table of the current schema that changed past autovacuum's threshold,
    in ``conn``'s transaction (the caller commits); their names, or None when another
    process is analyzing meanwhile."""
    if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}):
        return None
    names = [str(name) for name in conn.scalars(_DUE)]
    for name in names:  # quoted by the server (quote_ident)
        conn.exec_driver_sql(f"ANALYZE {name}")
    return names


class StatisticsKeeper:
    """A daemon thread that runs ``analyze_due`` every ``interval`` seconds while the
    server's autovacuum is off (see the module's docstring), on a connection of its own to
    ``engine``'s database (so it never waits for, or holds, one of the pool's). Only for
    PostgreSQL; on any other database it does nothing."""

    def __init__(self, engine: Engine, *, interval: float) -> None:
        self._enabled = engine.dialect.name == "postgresql" and interval > 0
        self._engine = (
            create_engine(engine.url, pool_size=1, max_overflow=0, pool_pre_ping=True)
            if self._enabled
            else engine
        )
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._enabled:
            return
        self._thread = threading.Thread(target=self._run, name="oms-statistics", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._enabled:
            self._engine.dispose()

    def run_once(self) -> list[str] | None:
        """One round: the tables analyzed (None: another process had the round)."""
        with self._engine.begin() as conn:
            return analyze_due(conn)

    def _run(self) -> None:
        try:
            with self._engine.connect() as conn:
                if autovacuum_is_on(conn):
                    return
        except Exception:
            log.warning("cannot tell whether autovacuum is on; not analyzing", exc_info=True)
            return
        log.warning(
            "autovacuum is off on this PostgreSQL server: oms analyzes its tables itself "
            "once they change (every %ss, OMS_DB_ANALYZE_SECONDS)",
            self._interval,
        )
        while not self._stop.wait(self._interval):
            try:
                analyzed = self.run_once()
            except Exception:  # a lost connection, a restart: try again next round
                log.warning("analyzing tables failed", exc_info=True)
                continue
            if analyzed:
                log.info("analyzed %s", ", ".join(analyzed))
