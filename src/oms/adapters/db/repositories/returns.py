"""Returns (RMAs) and their lines, and each tenant's return policy, in SQL.

The statements every return's step runs (its reads, writing a new return, saving a changed
one, the policy) run on PostgreSQL straight through psycopg (``DriverStatement``): a new
return and its lines are one statement, a changed return and its changed lines another
(data-modifying CTEs over JSON rows, as ``order_insert`` writes an order). On SQLite the
same statements, or the portable ones beside them, run through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Connection,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)

from oms.adapters.db.driver import DriverStatement
from oms.adapters.db.repositories.order_insert import json_rows, select_from_json
from oms.adapters.db.repositories.support import insert_if_absent
from oms.adapters.db.tables import (
    return_lines,
    return_policies,
    return_tracking_events,
    return_tracking_numbers,
    returns,
)
from oms.domain.returns import (
    OPEN_STATUSES,
    Resolution,
    ReturnLabel,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    ReturnStatus,
)
from oms.domain.tracking import ShipmentStatus, TrackingEvent
from oms.services.return_records import ReturnFilter, TrackedReturn

__all__ = ["SqlReturnRepository"]

_r = returns.c
_l = return_lines.c
# Built once: the order read asks it (services.orders.get_order_with_open_returns).
_OPEN_COUNT = (
    select(func.count())
    .select_from(returns)
    .where(
        _r.tenant_id == bindparam("tenant_id"),
        _r.order_id == bindparam("order_id"),
        _r.status.in_(sorted(status.value for status in OPEN_STATUSES)),
    )
)
_p = return_policies.c
_tn = return_tracking_numbers.c
_te = return_tracking_events.c


def _values(request: ReturnRequest) -> dict[str, Any]:
    return {
        "status": request.status.value,
        "note": request.note,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
        "decision_note": request.decision_note,
        "received_at": request.received_at,
        "refunded_at": request.refunded_at,
        "refund_amount": request.refund_amount,
        "restocking_fee": request.restocking_fee,
        "shipping_refund": request.shipping_refund,
        "refund_key": request.refund_key,
        "exchange_order_id": request.exchange_order_id,
        "exchange_credit": request.exchange_credit,
        "label": None if request.label is None else _label_values(request.label),
        "updated_at": request.updated_at,
        "version": request.version,
        "parcel_status": None if request.parcel_status is None else request.parcel_status.value,
        "last_scan_at": request.last_scan_at,
    }


def _label_values(label: ReturnLabel) -> dict[str, Any]:
    return {
        "carrier": label.carrier,
        "service": label.service,
        "tracking_number": label.tracking_number,
        "tracking_url": label.tracking_url,
        "cost": str(label.cost),
        "customer_paid": label.customer_paid,
        "location_id": None if label.location_id is None else str(label.location_id),
        "weight_grams": label.weight_grams,
        "ship_on": None if label.ship_on is None else label.ship_on.isoformat(),
        "dropoff_code": label.dropoff_code,
    }


def _label_of(raw: dict[str, Any]) -> ReturnLabel:
    return ReturnLabel(
        carrier=raw["carrier"],
        service=raw["service"],
        tracking_number=raw["tracking_number"],
        tracking_url=raw["tracking_url"],
        cost=Decimal(raw["cost"]),
        customer_paid=bool(raw["customer_paid"]),
        location_id=UUID(raw["location_id"]) if raw.get("location_id") else None,
        weight_grams=int(raw.get("weight_grams") or 0),
        ship_on=date.fromisoformat(raw["ship_on"]) if raw.get("ship_on") else None,
        dropoff_code=raw.get("dropoff_code"),
    )


def _line_values(request: ReturnRequest, line: ReturnLine) -> dict[str, Any]:
    return {
        "tenant_id": request.tenant_id,
        "return_id": request.id,
        "line_no": line.line_no,
        "sku": line.sku,
        "quantity": line.quantity,
        "reason": line.reason,
        "restocked": line.restocked,
        "quarantined": line.quarantined,
        "disposed": line.disposed,
    }


def _from_row(row: Any, lines: list[ReturnLine]) -> ReturnRequest:
    return ReturnRequest(
        id=row.id,
        tenant_id=row.tenant_id,
        order_id=row.order_id,
        order_number=row.order_number,
        status=ReturnStatus(row.status),
        resolution=Resolution(row.resolution),
        lines=lines,
        currency=row.currency,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        note=row.note,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_note=row.decision_note,
        received_at=row.received_at,
        refunded_at=row.refunded_at,
        refund_amount=row.refund_amount,
        restocking_fee=row.restocking_fee,
        shipping_refund=row.shipping_refund,
        refund_key=row.refund_key,
        exchange_order_id=row.exchange_order_id,
        exchange_credit=row.exchange_credit,
        label=None if row.label is None else _label_of(row.label),
        parcel_status=None if row.parcel_status is None else ShipmentStatus(row.parcel_status),
        last_scan_at=row.last_scan_at,
        version=row.version,
    )


def _received_counts(request: ReturnRequest) -> dict[int, tuple[int, int, int]]:
    return {ln.line_no: (ln.restocked, ln.quarantined, ln.disposed) for ln in request.lines}


_LINE_COLUMNS = (
    _l.line_no,
    _l.sku.label("line_sku"),
    _l.quantity.label("line_quantity"),
    _l.reason.label("line_reason"),
    _l.restocked.label("line_restocked"),
    _l.quarantined.label("line_quarantined"),
    _l.disposed.label("line_disposed"),
)


def _joined(*where: Any) -> Select[Any]:
    """Returns with their lines in one statement: a return's row once per line, its lines
    in order (every return has at least one line)."""
    return (
        select(returns, *_LINE_COLUMNS)
        .join(return_lines, (_l.tenant_id == _r.tenant_id) & (_l.return_id == _r.id))
        .where(*where)
    )


_TENANT = bindparam("tenant_id", type_=_r.tenant_id.type)
_BY_ID = _joined(_r.tenant_id == _TENANT, _r.id == bindparam("return_id", type_=_r.id.type))
_BY_ORDER = _joined(
    _r.tenant_id == _TENANT, _r.order_id == bindparam("order_id", type_=_r.order_id.type)
)
_GET = DriverStatement(_BY_ID.order_by(_l.line_no))
_GET_LOCKED = DriverStatement(_BY_ID.order_by(_l.line_no).with_for_update(of=returns))
_FOR_ORDER = DriverStatement(_BY_ORDER.order_by(_r.id, _l.line_no))
_FOR_ORDER_LOCKED = DriverStatement(
    _BY_ORDER.order_by(_r.id, _l.line_no).with_for_update(of=returns)
)
# The tenant's return policy beside an order's returns, in the same statement: a column
# of its own (NULL: none set). Unlocked, the returns are joined to a row that always is,
# so an order without returns still gives the policy; locked, FOR UPDATE may not reach
# into an outer join, so the policy is a column of each return's rows.
_POLICY_OF_TENANT = (
    select(_p.policy).where(_p.tenant_id == _TENANT).scalar_subquery().label("tenant_return_policy")
)
_POLICY_ROW = select(_POLICY_OF_TENANT).subquery("tenant_policy")
_WITH_POLICY = DriverStatement(
    select(_POLICY_ROW.c.tenant_return_policy, returns, *_LINE_COLUMNS)
    .select_from(
        _POLICY_ROW.outerjoin(
            returns.join(return_lines, (_l.tenant_id == _r.tenant_id) & (_l.return_id == _r.id)),
            (_r.tenant_id == _TENANT)
            & (_r.order_id == bindparam("order_id", type_=_r.order_id.type)),
        )
    )
    .order_by(_r.id, _l.line_no)
)
_WITH_POLICY_LOCKED = DriverStatement(
    _BY_ORDER.add_columns(_POLICY_OF_TENANT).order_by(_r.id, _l.line_no).with_for_update(of=returns)
)
_ORDER_ID_OF = DriverStatement(
    select(_r.order_id).where(
        _r.tenant_id == _TENANT, _r.id == bindparam("return_id", type_=_r.id.type)
    )
)
_POLICY = DriverStatement(
    select(_p.policy).where(_p.tenant_id == bindparam("tenant_id", type_=_p.tenant_id.type))
)

# PostgreSQL: a new return and its lines in one statement.
_ADD = DriverStatement(
    f"WITH r AS ({select_from_json(returns, 'r')}) {select_from_json(return_lines, 'l')}"
)


def _json_set(table: Table, names: tuple[str, ...]) -> str:
    # A JSON column's None is stored as JSON null, as SQLAlchemy's JSON type stores it.
    return ", ".join(
        f"{c} = COALESCE(w.{c}, 'null'::json)"
        if isinstance(table.c[c].type, JSON)
        else f"{c} = w.{c}"
        for c in names
    )


_COUNTS = ("restocked", "quarantined", "disposed")


@cache
def _save_statement(names: tuple[str, ...], with_lines: bool) -> DriverStatement:
    """PostgreSQL: a changed return's ``names`` (``_values``' keys) and, ``with_lines``,
    its changed lines in the same statement. The names are the tables' own columns, never
    input."""
    row = (
        f"UPDATE returns SET {_json_set(returns, names)} "  # noqa: S608
        "FROM json_populate_record(NULL::returns, %(r)s) w "
        "WHERE returns.tenant_id = w.tenant_id AND returns.id = w.id"
    )
    if not with_lines:
        return DriverStatement(row)
    return DriverStatement(
        f"WITH r AS ({row}) "  # noqa: S608
        f"UPDATE return_lines SET {_json_set(return_lines, _COUNTS)} "
        "FROM json_populate_recordset(NULL::return_lines, %(l)s) w "
        "WHERE return_lines.tenant_id = w.tenant_id AND return_lines.return_id = w.return_id "
        "AND return_lines.line_no = w.line_no"
    )


def _return_row(request: ReturnRequest) -> dict[str, Any]:
    return {
        "tenant_id": request.tenant_id,
        "id": request.id,
        "order_id": request.order_id,
        "order_number": request.order_number,
        "resolution": request.resolution.value,
        "currency": request.currency,
        "created_at": request.created_at,
        "created_by": request.created_by,
        **_values(request),
    }


class SqlReturnRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        # What the database holds of each return's lines read or written in this unit of
        # work: (restocked, quarantined, disposed) per line, so save writes changed lines only.
        self._stored_lines: dict[UUID, dict[int, tuple[int, int, int]]] = {}

    def add(self, request: ReturnRequest) -> None:
        lines = [_line_values(request, line) for line in request.lines]
        if self._conn.dialect.name == "postgresql":
            _ADD.rows(self._conn, {"r": json_rows([_return_row(request)]), "l": json_rows(lines)})
        else:
            self._conn.execute(insert(returns).values(**_return_row(request)))
            self._conn.execute(insert(return_lines), lines)
        self._stored_lines[request.id] = _received_counts(request)

    def save(self, request: ReturnRequest) -> None:
        request.version += 1
        stored = self._stored_lines.get(request.id, {})
        # Only lines read in this unit of work and changed since, or not read here, are written.
        changed = [
            line
            for line in request.lines
            if stored.get(line.line_no) != (line.restocked, line.quarantined, line.disposed)
        ]
        if self._conn.dialect.name == "postgresql":
            values = _values(request)
            row = {"tenant_id": request.tenant_id, "id": request.id, **values}
            counts = [
                {
                    "tenant_id": request.tenant_id,
                    "return_id": request.id,
                    "line_no": line.line_no,
                    "restocked": line.restocked,
                    "quarantined": line.quarantined,
                    "disposed": line.disposed,
                }
                for line in changed
            ]
            _save_statement(tuple(values), bool(counts)).rows(
                self._conn, {"r": json_rows(row), "l": json_rows(counts)}
            )
        else:
            self._conn.execute(
                update(returns)
                .where(_r.tenant_id == request.tenant_id, _r.id == request.id)
                .values(**_values(request))
            )
            for line in changed:
                self._conn.execute(
                    update(return_lines)
                    .where(
                        _l.tenant_id == request.tenant_id,
                        _l.return_id == request.id,
                        _l.line_no == line.line_no,
                    )
                    .values(
                        restocked=line.restocked,
                        quarantined=line.quarantined,
                        disposed=line.disposed,
                    )
                )
        self._stored_lines[request.id] = _received_counts(request)

    def _rows_to_returns(self, rows: Iterable[Any]) -> list[ReturnRequest]:
        found: dict[UUID, tuple[Any, list[ReturnLine]]] = {}
        for row in rows:
            entry = found.get(row.id)
            if entry is None:
                entry = found[row.id] = (row, [])
            entry[1].append(
                ReturnLine(
                    line_no=row.line_no,
                    sku=row.line_sku,
                    quantity=row.line_quantity,
                    reason=row.line_reason,
                    restocked=row.line_restocked,
                    quarantined=row.line_quarantined,
                    disposed=row.line_disposed,
                )
            )
        loaded = [_from_row(row, lines) for row, lines in found.values()]
        for request in loaded:
            self._stored_lines[request.id] = _received_counts(request)
        return loaded

    def get(
        self, tenant_id: UUID, return_id: UUID, *, for_update: bool = False
    ) -> ReturnRequest | None:
        statement = _GET_LOCKED if for_update else _GET
        found = self._rows_to_returns(
            statement.rows(self._conn, {"tenant_id": tenant_id, "return_id": return_id})
        )
        return found[0] if found else None

    def order_id_of(self, tenant_id: UUID, return_id: UUID) -> UUID | None:
        found: UUID | None = _ORDER_ID_OF.scalar(
            self._conn, {"tenant_id": tenant_id, "return_id": return_id}
        )
        return found

    def for_order(
        self, tenant_id: UUID, order_id: UUID, *, for_update: bool = False
    ) -> list[ReturnRequest]:
        statement = _FOR_ORDER_LOCKED if for_update else _FOR_ORDER
        return self._rows_to_returns(
            statement.rows(self._conn, {"tenant_id": tenant_id, "order_id": order_id})
        )

    def for_order_with_policy(
        self, tenant_id: UUID, order_id: UUID, *, for_update: bool = False
    ) -> tuple[list[ReturnRequest], ReturnPolicy]:
        params = {"tenant_id": tenant_id, "order_id": order_id}
        if for_update:
            rows = _WITH_POLICY_LOCKED.rows(self._conn, params)
            if not rows:  # no returns: no row to carry the policy
                return [], self.policy(tenant_id)
        else:
            rows = _WITH_POLICY.rows(self._conn, params)
        stored = rows[0].tenant_return_policy
        policy = ReturnPolicy() if stored is None else ReturnPolicy.from_dict(stored)
        return self._rows_to_returns(row for row in rows if row.id is not None), policy

    def open_count(self, tenant_id: UUID, order_id: UUID) -> int:
        counted = self._conn.scalar(_OPEN_COUNT, {"tenant_id": tenant_id, "order_id": order_id})
        return int(counted or 0)

    def page(
        self, tenant_id: UUID, *, filters: ReturnFilter, before_id: UUID | None, limit: int
    ) -> list[ReturnRequest]:
        query = select(returns).where(_r.tenant_id == tenant_id)
        if filters.status is not None:
            query = query.where(_r.status == filters.status.value)
        if filters.order_id is not None:
            query = query.where(_r.order_id == filters.order_id)
        if filters.reason is not None:
            query = query.where(
                exists().where(
                    _l.tenant_id == _r.tenant_id, _l.return_id == _r.id, _l.reason == filters.reason
                )
            )
        if filters.created_from is not None:
            query = query.where(_r.created_at >= filters.created_from)
        if filters.created_to is not None:
            query = query.where(_r.created_at < filters.created_to)
        if before_id is not None:
            query = query.where(_r.id < before_id)
        ids = query.with_only_columns(_r.id).order_by(_r.id.desc()).limit(limit).subquery()
        return self._rows_to_returns(
            self._conn.execute(
                _joined(_r.tenant_id == tenant_id, _r.id.in_(select(ids.c.id))).order_by(
                    _r.id.desc(), _l.line_no
                )
            )
        )

    def policy(self, tenant_id: UUID) -> ReturnPolicy:
        stored = _POLICY.scalar(self._conn, {"tenant_id": tenant_id})
        return ReturnPolicy() if stored is None else ReturnPolicy.from_dict(stored)

    def stored_policies(self) -> dict[UUID, ReturnPolicy]:
        rows = self._conn.execute(select(_p.tenant_id, _p.policy).order_by(_p.tenant_id))
        return {row.tenant_id: ReturnPolicy.from_dict(row.policy) for row in rows}

    def put_policy(self, tenant_id: UUID, policy: ReturnPolicy, *, at: datetime) -> None:
        values = {"policy": policy.to_dict(), "updated_at": at}
        if not insert_if_absent(self._conn, return_policies, {"tenant_id": tenant_id, **values}):
            self._conn.execute(
                update(return_policies).where(_p.tenant_id == tenant_id).values(**values)
            )

    def register_label(self, request: ReturnRequest) -> None:
        """Make the return's label findable by its tracking number (carriers know no more)."""
        assert request.label is not None
        insert_if_absent(
            self._conn,
            return_tracking_numbers,
            {
                "carrier": request.label.carrier,
                "tracking_number": request.label.tracking_number,
                "tenant_id": request.tenant_id,
                "return_id": request.id,
            },
        )

    def locate_label(self, carrier: str, tracking_number: str) -> TrackedReturn | None:
        row = self._conn.execute(
            select(return_tracking_numbers).where(
                _tn.carrier == carrier, _tn.tracking_number == tracking_number
            )
        ).first()
        return None if row is None else TrackedReturn(row.tenant_id, row.return_id)

    def add_parcel_event(
        self, request: ReturnRequest, carrier: str, event: TrackingEvent, *, received_at: datetime
    ) -> bool:
        return insert_if_absent(
            self._conn,
            return_tracking_events,
            {
                "tenant_id": request.tenant_id,
                "carrier": carrier,
                "event_id": event.event_id,
                "return_id": request.id,
                "status": event.status.value,
                "occurred_at": event.occurred_at,
                "location": event.location,
                "received_at": received_at,
            },
        )

    def parcel_events(self, tenant_id: UUID, return_id: UUID) -> list[TrackingEvent]:
        rows = self._conn.execute(
            select(return_tracking_events)
            .where(_te.tenant_id == tenant_id, _te.return_id == return_id)
            .order_by(_te.occurred_at, _te.event_id)
        )
        return [
            TrackingEvent(
                event_id=row.event_id,
                status=ShipmentStatus(row.status),
                occurred_at=row.occurred_at,
                location=row.location,
            )
            for row in rows
        ]
