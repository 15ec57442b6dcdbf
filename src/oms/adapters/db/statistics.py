"""Planner statistics where the PostgreSQL server does not gather them (yet).

PostgreSQL plans every statement from the statistics ``ANALYZE`` gathers, and autovacuum
runs ``ANALYZE`` on a table once enough of it changed. On a server with autovacuum off
nothing does, and the planner guesses: ``tenant_id = $1`` then matches one row in two
hundred, so reading three SKUs' stock became a scan of the tenant's every stock row with
the three kept, and the reservation's UPDATE a hash join over all of them (1,500 rows
read for 3 under bench/intake.py). Worse, a generic plan the server keeps for a prepared
statement is made from the statistics of its moment: one made before a table had any
(the foreign-key check of an order's lines looked the order up by tenant alone) kept
reading the whole tenant until the next ``ANALYZE`` of that table.

``StatisticsKeeper`` fills the gap. Every ``OMS_DB_ANALYZE_SECONDS`` it analyzes the
tables of the current schema that changed past autovacuum's own threshold
(``autovacuum_analyze_threshold`` rows plus ``autovacuum_analyze_scale_factor`` of the
table) and have no statistics yet, at once: a new database's first minute under load,
before autovacuum's first round. When the server's autovacuum is off, it also analyzes
again the tables analyzed before that changed past the threshold, at the pace autovacuum
would: at most once per ``autovacuum_naptime`` (a minute unless configured otherwise).
One process of the deployment at a time (a transaction-level advisory lock; the others
skip that round). Each API worker runs one, and so does ``oms import`` while it imports:
a first import into a new database fills tables whose foreign-key checks would otherwise
keep plans made while they were empty (docs/performance.md).

Two things the keeper cannot do for an import. It sees a table's changes only once the
server has counted them (up to a second after the commit) and then at its next round: an
import into a new database ran its first batches on plans made while its tables were
empty. And a plan the server keeps (a prepared statement's, a foreign-key check's) made
while a table was small stays as it was made while the table grows, until the table is
analyzed again: the check of each fulfilment order line, planned when the table held one
batch, scanned the whole table (the cheapest way through a few pages) for every line of
the import, the keeper waiting ``autovacuum_naptime`` before analyzing again
(docs/performance.md). So an import has ``analyze_grown`` (``SqlPlannerStatistics``, the
unit of work's ``statistics``) analyze the tables that hold rows but have no statistics
of them, or whose statistics saw a small table (under ``SMALL_PAGES``, where a scan beats
an index) that grew to ``GROWTH`` times that, after its first batch and again after each
doubling of its batches. A table past that is left to the keeper: a plan made for it now
reads through its indexes, and analyzing a large table again costs more than it saves.

Analyzing a table again as soon as it passed the threshold was too often: under
bench/intake.py the order tables passed it every few seconds, and each round cost the
server a large share of its CPU (docs/performance.md, item 17). Statistics
once gathered stay good for the plans of the intake as a table grows (the planner scales
its row counts by the table's size), so the first ``ANALYZE`` is the one that matters
(for the keeper's rounds; a plan kept from a small table's time is the import's case
above).
"""

from __future__ import annotations

import logging
import threading
from typing import Self

from sqlalchemy import Connection, Engine, create_engine, text

__all__ = [
    "SqlPlannerStatistics",
    "StatisticsKeeper",
    "analyze_due",
    "analyze_grown",
    "autovacuum_is_on",
    "naptime_seconds",
]

log = logging.getLogger(__name__)

# PostgreSQL's own default autovacuum_naptime, for a keeper that could not ask the server.
DEFAULT_NAPTIME_SECONDS = 60.0
# pg_try_advisory_xact_lock key: one analysing process per database at a time.
ADVISORY_KEY = 0x6F6D735F73746174  # "oms_stat"

_DUE = text("""
SELECT quote_ident(s.relname) AS name
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
  AND s.n_mod_since_analyze > 0
  AND ((s.last_analyze IS NULL AND s.last_autoanalyze IS NULL)
       OR (NOT current_setting('autovacuum')::boolean
           AND greatest(s.last_analyze, s.last_autoanalyze)
               <= now() - make_interval(secs => :min_age)))
  AND s.n_mod_since_analyze >= current_setting('autovacuum_analyze_threshold')::float8
      + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
ORDER BY s.relname
""")


# How many times the pages its statistics saw a small table grows to before
# ``analyze_grown`` analyzes it again; and what is small: below this many pages (8 kB
# each) a sequential scan costs the planner less than an index's few pages, so a plan the
# server keeps, made then, scans the table for good.
GROWTH = 4
SMALL_PAGES = 8
# Tables with rows (pages on disk now) that were never analyzed or analyzed while empty
# (relpages 0), or analyzed while small and grown GROWTH times since. pg_class and the
# files' sizes, not the counters of pg_stat_user_tables: those lag the commits.
_GROWN = text("""
SELECT quote_ident(c.relname) AS name
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace
  AND c.relkind = 'r'
  AND pg_relation_size(c.oid) > 0
  AND c.relpages < :small
  AND pg_relation_size(c.oid)
      >= :growth * c.relpages::bigint * current_setting('block_size')::bigint
ORDER BY c.relname
""")


def autovacuum_is_on(conn: Connection) -> bool:
    return bool(conn.scalar(text("SELECT current_setting('autovacuum')::boolean")))


def naptime_seconds(conn: Connection) -> float:
    """The server's ``autovacuum_naptime``: how often autovacuum visits a database."""
    found = conn.scalar(
        text("SELECT extract(epoch FROM current_setting('autovacuum_naptime')::interval)")
    )
    return float(found)


def analyze_due(conn: Connection, *, min_age: float) -> list[str] | None:
    """Analyze the tables of the current schema that changed past autovacuum's threshold
    and were never analyzed, or (with autovacuum off) were last analyzed at least
    ``min_age`` seconds ago, in ``conn``'s transaction (the caller commits); their names,
    or None when another process is analyzing meanwhile."""
    if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}):
        return None
    names = [str(name) for name in conn.scalars(_DUE, {"min_age": min_age})]
    for name in names:  # quoted by the server (quote_ident)
        conn.exec_driver_sql(f"ANALYZE {name}")
    return names


def analyze_grown(
    conn: Connection, *, growth: float = GROWTH, small: int = SMALL_PAGES
) -> list[str]:
    """Analyze the tables of the current schema that hold rows but have no statistics of
    them (never analyzed, or analyzed while empty), or whose statistics saw fewer than
    ``small`` pages and that grew to ``growth`` times that, in ``conn``'s transaction (the
    caller commits), in name order as ``analyze_due`` does; their names."""
    found = conn.scalars(_GROWN, {"growth": growth, "small": small})
    names = [str(name) for name in found]
    for name in names:  # quoted by the server (quote_ident)
        conn.exec_driver_sql(f"ANALYZE {name}")
    return names


class SqlPlannerStatistics:
    """The unit of work's ``statistics`` (``oms.services.ports.PlannerStatistics``)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def refresh_grown(self) -> None:
        # PostgreSQL only: SQLite plans well enough without statistics (both run the
        # import's tests), and its ``ANALYZE`` is not free.
        if self._conn.dialect.name == "postgresql":
            analyzed = analyze_grown(self._conn)
            if analyzed:
                log.info("analyzed %s (new or grown)", ", ".join(analyzed))


class StatisticsKeeper:
    """A daemon thread that runs ``analyze_due`` every ``interval`` seconds (see the
    module's docstring), on a connection of its own to ``engine``'s database (so it never
    waits for, or holds, one of the pool's). ``min_age``: how long a table analyzed
    before waits to be analyzed again (default: the server's ``autovacuum_naptime``).
    Only for PostgreSQL; elsewhere it does nothing."""

    def __init__(self, engine: Engine, *, interval: float, min_age: float | None = None) -> None:
        self._url = engine.url
        self._min_age = min_age
        self._enabled = engine.dialect.name == "postgresql" and interval > 0
        self._engine: Engine | None = None  # its own, made when it starts
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._enabled:
            return
        self._engine = create_engine(self._url, pool_size=1, max_overflow=0, pool_pre_ping=True)
        self._thread = threading.Thread(
            target=self._run, args=(self._engine,), name="oms-statistics", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._engine is not None:
            self._engine.dispose()

    def _run(self, engine: Engine) -> None:
        try:
            with engine.connect() as conn:
                autovacuum = autovacuum_is_on(conn)
                min_age = naptime_seconds(conn) if self._min_age is None else self._min_age
        except Exception:  # the server is not there yet: the rounds will tell
            autovacuum = True
            min_age = DEFAULT_NAPTIME_SECONDS if self._min_age is None else self._min_age
        if not autovacuum:
            log.warning(
                "autovacuum is off on this PostgreSQL server: oms analyzes its tables itself "
                "once they change (checked every %ss, OMS_DB_ANALYZE_SECONDS; each table at "
                "most once per %ss, autovacuum_naptime)",
                self._interval,
                min_age,
            )
        while not self._stop.wait(self._interval):
            try:
                with engine.begin() as conn:
                    analyzed = analyze_due(conn, min_age=min_age)
            except Exception:  # a lost connection, a restart: try again next round
                log.warning("analyzing tables failed", exc_info=True)
                continue
            if analyzed:
                log.info("analyzed %s", ", ".join(analyzed))
