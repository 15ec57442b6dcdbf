"""The outbox as ``oms worker`` claims it, deliveries and their attempts (SQL).

A batch's writes are one statement each on PostgreSQL (the rows passed as arrays and
``unnest``ed, run straight through psycopg: ``oms.adapters.db.driver``), rather than one
execution per row; SQLite runs the same writes row by row through SQLAlchemy. Event data
is written as orjson's text of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.tables import delivery_attempts, event_deliveries, outbox
from oms.domain.delivery_schedule import DeliveryStatus
from oms.domain.ids import new_id
from oms.services.deliveries import (
    AttemptRecord,
    AttemptView,
    Backlog,
    ClaimedDelivery,
    DeliveryView,
    Fanout,
    OutboxEntry,
)
from oms.services.events import Event

__all__ = ["SqlDeliveryRepository"]

_o = outbox.c
_d = event_deliveries.c
_a = delivery_attempts.c
_PENDING = DeliveryStatus.PENDING.value

_PUBLISH = (
    update(outbox)
    .where(_o.tenant_id == bindparam("t"), _o.id == bindparam("i"))
    .values(published_at=bindparam("at"), event_type=bindparam("et"), data=bindparam("dt"))
)
# Fenced: only the worker whose lease is still on the row records the outcome.
_RECORD = (
    update(event_deliveries)
    .where(
        _d.tenant_id == bindparam("t"),
        _d.id == bindparam("i"),
        _d.lease_until == bindparam("lease"),
    )
    .values(
        status=bindparam("st"),
        attempts=bindparam("n"),
        next_attempt_at=bindparam("next"),
        lease_until=None,
        last_status_code=bindparam("code"),
        last_latency_ms=bindparam("ms"),
        last_error=bindparam("err"),
        last_response_body=bindparam("body"),
        updated_at=bindparam("at"),
        delivered_at=bindparam("dat"),
    )
)
_HAND_BACK = (
    update(event_deliveries)
    .where(
        _d.tenant_id == bindparam("t"),
        _d.id == bindparam("i"),
        _d.lease_until == bindparam("lease"),
    )
    .values(next_attempt_at=bindparam("at"), lease_until=None, updated_at=bindparam("at"))
)


# PostgreSQL: a batch in one statement each, its rows as arrays sent in binary (as text,
# psycopg would escape every quote of every JSON document, in Python).
_PG_PUBLISH = DriverStatement(
    "UPDATE outbox AS o SET published_at = %(at)s, event_type = v.et, data = v.dt::json "
    "FROM unnest(%(t)b::uuid[], %(i)b::uuid[], %(et)b::text[], %(dt)b::text[]) AS v(t, i, et, dt) "
    "WHERE o.tenant_id = v.t AND o.id = v.i"
)
_PG_INSERT_DELIVERIES = DriverStatement(
    "INSERT INTO event_deliveries (tenant_id, id, event_id, sink_kind, subscriber_key, status, "
    "attempts, round_start, next_attempt_at, lease_until, created_at, updated_at) "
    "SELECT v.t, v.i, v.e, v.k, v.s, 'pending', 0, 0, %(next)s, %(lease)s, %(at)s, %(at)s "
    "FROM unnest(%(t)b::uuid[], %(i)b::uuid[], %(e)b::uuid[], %(k)b::text[], %(s)b::text[]) "
    "AS v(t, i, e, k, s) ON CONFLICT DO NOTHING RETURNING id"
)
_PG_RECORD = DriverStatement(
    "UPDATE event_deliveries AS d SET status = v.st, attempts = v.n, next_attempt_at = v.nx, "
    "lease_until = NULL, last_status_code = v.code, last_latency_ms = v.ms, "
    "last_error = v.err, last_response_body = v.body, updated_at = v.at, delivered_at = v.dat "
    "FROM unnest(%(t)b::uuid[], %(i)b::uuid[], %(lease)b::timestamptz[], %(st)b::text[], "
    "%(n)b::int[], %(next)b::timestamptz[], %(code)b::int[], %(ms)b::float8[], "
    "%(err)b::text[], %(body)b::text[], %(at)b::timestamptz[], %(dat)b::timestamptz[]) "
    "AS v(t, i, lease, st, n, nx, code, ms, err, body, at, dat) "
    "WHERE d.tenant_id = v.t AND d.id = v.i AND d.lease_until = v.lease RETURNING d.id"
)
_PG_INSERT_ATTEMPTS = DriverStatement(
    "INSERT INTO delivery_attempts (tenant_id, delivery_id, attempt, at, delivered, "
    "status_code, latency_ms, error, response_body) "
    "SELECT * FROM unnest(%(t)b::uuid[], %(i)b::uuid[], %(n)b::int[], %(at)b::timestamptz[], "
    "%(ok)b::bool[], %(code)b::int[], %(ms)b::float8[], %(err)b::text[], %(body)b::text[]) "
    "ON CONFLICT DO NOTHING"
)


_RECORD_COLUMNS = ("t", "i", "lease", "st", "n", "next", "code", "ms", "err", "body", "at", "dat")
_ATTEMPT_COLUMNS = ("t", "i", "n", "at", "ok", "code", "ms", "err", "body")


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """Row dictionaries as one list per name (the arrays a PostgreSQL batch statement
    unnests)."""
    return {name: [row[name] for row in rows] for name in names}


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _insert_ignoring(dialect: str, table: Any) -> Any:
    return (
        (postgresql if dialect == "postgresql" else sqlite).insert(table).on_conflict_do_nothing()
    )


class SqlDeliveryRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect.name

    def claim_unpublished(self, *, limit: int) -> list[OutboxEntry]:
        query = (
            select(_o.tenant_id, _o.id, _o.topic, _o.aggregate_id, _o.payload, _o.created_at)
            .where(_o.published_at.is_(None))
            .order_by(_o.created_at)
            .limit(limit)
            # PostgreSQL: rows another worker holds are passed over, not waited for. SQLite
            # has no row locks: its write transactions run one at a time (BEGIN IMMEDIATE).
            .with_for_update(skip_locked=True)
        )
        return [
            OutboxEntry(
                tenant_id=row.tenant_id,
                id=row.id,
                topic=row.topic,
                aggregate_id=row.aggregate_id,
                payload=row.payload,
                created_at=row.created_at,
            )
            for row in self._conn.execute(query)
        ]

    def publish(self, fanouts: Sequence[Fanout], *, at: datetime) -> int:
        return len(self._publish(fanouts, at=at, lease_until=None))

    def publish_claimed(
        self, fanouts: Sequence[Fanout], *, at: datetime, lease_until: datetime
    ) -> list[ClaimedDelivery]:
        return [
            ClaimedDelivery(
                tenant_id=row["tenant_id"],
                id=row["id"],
                event_id=row["event_id"],
                sink_kind=row["sink_kind"],
                subscriber_key=row["subscriber_key"],
                attempt=1,
                round_start=0,
                lease_until=lease_until,
            )
            for row in self._publish(fanouts, at=at, lease_until=lease_until)
        ]

    def _publish(
        self, fanouts: Sequence[Fanout], *, at: datetime, lease_until: datetime | None
    ) -> list[dict[str, Any]]:
        """Mark the messages published and insert their deliveries (leased until
        ``lease_until`` when given); the rows inserted (a pair that had a delivery keeps
        it)."""
        if not fanouts:
            return []
        if self._dialect == "postgresql":
            return self._publish_pg(fanouts, at=at, lease_until=lease_until)
        self._conn.execute(
            _PUBLISH,
            [
                {
                    "t": f.entry.tenant_id,
                    "i": f.entry.id,
                    "at": at,
                    "et": f.event_type,
                    "dt": f.data,
                }
                for f in fanouts
            ],
        )
        rows = [
            {
                "tenant_id": f.entry.tenant_id,
                "id": new_id(),
                "event_id": f.entry.id,
                "sink_kind": kind,
                "subscriber_key": key,
                "status": _PENDING,
                "attempts": 0,
                "round_start": 0,
                "next_attempt_at": lease_until or at,
                "lease_until": lease_until,
                "created_at": at,
                "updated_at": at,
            }
            for f in fanouts
            for kind, key in f.subscribers
        ]
        if not rows:
            return []
        inserted = self._conn.execute(
            _insert_ignoring(self._dialect, event_deliveries).returning(_d.id), rows
        )
        made = {row.id for row in inserted}
        return [row for row in rows if row["id"] in made]

    def _publish_pg(
        self, fanouts: Sequence[Fanout], *, at: datetime, lease_until: datetime | None
    ) -> list[dict[str, Any]]:
        _PG_PUBLISH.rows(
            self._conn,
            {
                "at": at,
                "t": [f.entry.tenant_id for f in fanouts],
                "i": [f.entry.id for f in fanouts],
                "et": [f.event_type for f in fanouts],
                "dt": [_json_text(f.data) for f in fanouts],
            },
        )
        rows = [
            {
                "tenant_id": f.entry.tenant_id,
                "id": new_id(),
                "event_id": f.entry.id,
                "sink_kind": kind,
                "subscriber_key": key,
            }
            for f in fanouts
            for kind, key in f.subscribers
        ]
        if not rows:
            return []
        inserted = _PG_INSERT_DELIVERIES.tuples(
            self._conn,
            {
                "next": lease_until or at,
                "lease": lease_until,
                "at": at,
                "t": [r["tenant_id"] for r in rows],
                "i": [r["id"] for r in rows],
                "e": [r["event_id"] for r in rows],
                "k": [r["sink_kind"] for r in rows],
                "s": [r["subscriber_key"] for r in rows],
            },
        )
        made = {row[0] for row in inserted}
        return [row for row in rows if row["id"] in made]

    def claim_due(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[ClaimedDelivery]:
        due = (
            select(_d.tenant_id, _d.id)
            .where(_d.status == _PENDING, _d.next_attempt_at <= now)
            .order_by(_d.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if self._dialect == "sqlite":
            # One writer at a time: read, then lease what was read.
            keys = [(row.tenant_id, row.id) for row in self._conn.execute(due)]
            if not keys:
                return []
            target: ColumnElement[bool] = tuple_(_d.tenant_id, _d.id).in_(keys)
        else:
            picked = due.subquery()
            target = and_(_d.tenant_id == picked.c.tenant_id, _d.id == picked.c.id)
        statement = (
            update(event_deliveries)
            .where(target)
            .values(lease_until=lease_until, next_attempt_at=lease_until, updated_at=now)
            .returning(
                _d.tenant_id,
                _d.id,
                _d.event_id,
                _d.sink_kind,
                _d.subscriber_key,
                _d.attempts,
                _d.round_start,
            )
        )
        return [
            ClaimedDelivery(
                tenant_id=row.tenant_id,
                id=row.id,
                event_id=row.event_id,
                sink_kind=row.sink_kind,
                subscriber_key=row.subscriber_key,
                attempt=row.attempts + 1,
                round_start=row.round_start,
                lease_until=lease_until,
            )
            for row in self._conn.execute(statement)
        ]

    def events(self, keys: Sequence[tuple[UUID, UUID]]) -> dict[UUID, Event]:
        if not keys:
            return {}
        rows = self._conn.execute(
            select(outbox).where(
                tuple_(_o.tenant_id, _o.id).in_(list(keys)), _o.event_type.is_not(None)
            )
        )
        return {
            row.id: Event(
                id=row.id,
                tenant_id=row.tenant_id,
                type=row.event_type,
                created_at=row.created_at,
                data=row.data or {},
                topic=row.topic,
                aggregate_id=row.aggregate_id,
                detail=row.payload,
            )
            for row in rows
        }

    def record(self, records: Sequence[AttemptRecord]) -> int:
        attempted = [r for r in records if r.outcome is not None]
        handed_back = [r for r in records if r.outcome is None]
        stored = 0
        if handed_back:
            self._conn.execute(
                _HAND_BACK,
                [
                    {
                        "t": r.delivery.tenant_id,
                        "i": r.delivery.id,
                        "lease": r.delivery.lease_until,
                        "at": r.at,
                    }
                    for r in handed_back
                ],
            )
        if not attempted:
            return 0
        params = []
        for r in attempted:
            assert r.outcome is not None
            params.append(
                {
                    "t": r.delivery.tenant_id,
                    "i": r.delivery.id,
                    "lease": r.delivery.lease_until,
                    "st": r.status.value,
                    "n": r.delivery.attempt,
                    "next": r.next_attempt_at,
                    "code": r.outcome.status_code,
                    "ms": r.outcome.latency_ms,
                    "err": r.outcome.error,
                    "body": r.outcome.response_body,
                    "at": r.at,
                    "dat": r.at if r.status is DeliveryStatus.DELIVERED else None,
                }
            )
        attempts = [
            {
                "t": r.delivery.tenant_id,
                "i": r.delivery.id,
                "n": r.delivery.attempt,
                "at": r.at,
                "ok": r.outcome.delivered,
                "code": r.outcome.status_code,
                "ms": r.outcome.latency_ms,
                "err": r.outcome.error,
                "body": r.outcome.response_body,
            }
            for r in attempted
            if r.outcome is not None
        ]
        if self._dialect == "postgresql":
            stored = len(_PG_RECORD.tuples(self._conn, _columns(params, _RECORD_COLUMNS)))
            _PG_INSERT_ATTEMPTS.rows(self._conn, _columns(attempts, _ATTEMPT_COLUMNS))
            return stored
        result = self._conn.execute(_RECORD, params)
        stored = (
            result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(params)
        )
        renamed = {
            "t": "tenant_id",
            "i": "delivery_id",
            "n": "attempt",
            "at": "at",
            "ok": "delivered",
            "code": "status_code",
            "ms": "latency_ms",
            "err": "error",
            "body": "response_body",
        }
        self._conn.execute(
            _insert_ignoring(self._dialect, delivery_attempts),
            [{renamed[k]: v for k, v in a.items()} for a in attempts],
        )
        return stored

    def _views(self, where: Any, *, limit: int | None = None) -> list[DeliveryView]:
        query = (
            select(event_deliveries, _o.event_type)
            .select_from(
                event_deliveries.outerjoin(
                    outbox, and_(_o.tenant_id == _d.tenant_id, _o.id == _d.event_id)
                )
            )
            .where(where)
            .order_by(_d.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return [
            DeliveryView(
                tenant_id=row.tenant_id,
                id=row.id,
                event_id=row.event_id,
                event_type=row.event_type,
                sink_kind=row.sink_kind,
                subscriber_key=row.subscriber_key,
                status=DeliveryStatus(row.status),
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at if row.status == _PENDING else None,
                last_status_code=row.last_status_code,
                last_latency_ms=row.last_latency_ms,
                last_error=row.last_error,
                last_response_body=row.last_response_body,
                created_at=row.created_at,
                updated_at=row.updated_at,
                delivered_at=row.delivered_at,
            )
            for row in self._conn.execute(query)
        ]

    def get(self, tenant_id: UUID, delivery_id: UUID) -> DeliveryView | None:
        found = self._views(and_(_d.tenant_id == tenant_id, _d.id == delivery_id))
        return found[0] if found else None

    def page(
        self,
        tenant_id: UUID,
        *,
        sink_kind: str,
        subscriber_key: str,
        status: DeliveryStatus | None,
        before_id: UUID | None,
        limit: int,
    ) -> list[DeliveryView]:
        conditions = [
            _d.tenant_id == tenant_id,
            _d.sink_kind == sink_kind,
            _d.subscriber_key == subscriber_key,
        ]
        if status is not None:
            conditions.append(_d.status == status.value)
        if before_id is not None:
            conditions.append(_d.id < before_id)
        return self._views(and_(*conditions), limit=limit)

    def for_aggregate(
        self, tenant_id: UUID, aggregate_id: UUID, *, limit: int
    ) -> list[DeliveryView]:
        return self._views(
            and_(_d.tenant_id == tenant_id, _o.aggregate_id == aggregate_id), limit=limit
        )

    def attempts(self, tenant_id: UUID, delivery_id: UUID) -> list[AttemptView]:
        rows = self._conn.execute(
            select(delivery_attempts)
            .where(_a.tenant_id == tenant_id, _a.delivery_id == delivery_id)
            .order_by(_a.attempt)
        )
        return [
            AttemptView(
                attempt=row.attempt,
                at=row.at,
                delivered=row.delivered,
                status_code=row.status_code,
                latency_ms=row.latency_ms,
                error=row.error,
                response_body=row.response_body,
            )
            for row in rows
        ]

    def _again(self, where: Any, at: datetime) -> int:
        # A delivery a worker holds right now is pending: it is left to that worker.
        result = self._conn.execute(
            update(event_deliveries)
            .where(where, _d.status != _PENDING)
            .values(
                status=_PENDING,
                round_start=_d.attempts,
                next_attempt_at=at,
                lease_until=None,
                updated_at=at,
            )
        )
        return int(result.rowcount or 0)

    def retry(self, tenant_id: UUID, delivery_id: UUID, *, at: datetime) -> bool:
        return self._again(and_(_d.tenant_id == tenant_id, _d.id == delivery_id), at) > 0

    def replay(
        self, tenant_id: UUID, *, sink_kind: str, subscriber_key: str, since: datetime, at: datetime
    ) -> int:
        events = select(_o.id).where(_o.tenant_id == tenant_id, _o.created_at >= since)
        return self._again(
            and_(
                _d.tenant_id == tenant_id,
                _d.sink_kind == sink_kind,
                _d.subscriber_key == subscriber_key,
                _d.event_id.in_(events),
            ),
            at,
        )

    def cancel_pending(
        self, tenant_id: UUID, *, sink_kind: str, subscriber_key: str, at: datetime
    ) -> int:
        result = self._conn.execute(
            update(event_deliveries)
            .where(
                _d.tenant_id == tenant_id,
                _d.sink_kind == sink_kind,
                _d.subscriber_key == subscriber_key,
                _d.status == _PENDING,
                or_(_d.lease_until.is_(None), _d.lease_until < at),
            )
            .values(status=DeliveryStatus.CANCELLED.value, next_attempt_at=None, updated_at=at)
        )
        return int(result.rowcount or 0)

    def backlog(self, *, now: datetime) -> Backlog:
        waiting, oldest = self._conn.execute(
            select(func.count(), func.min(_o.created_at)).where(_o.published_at.is_(None))
        ).one()
        pending, due = self._conn.execute(
            select(
                func.count(),
                func.count().filter(_d.next_attempt_at <= now),
            ).where(_d.status == _PENDING)
        ).one()
        return Backlog(
            outbox_waiting=int(waiting),
            oldest_waiting_at=oldest,
            deliveries_pending=int(pending),
            deliveries_due=int(due or 0),
        )
