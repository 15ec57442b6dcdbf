"""The dashboard's figures as aggregate queries, the same on PostgreSQL and SQLite.

Every query is scoped by the window's tenant, or by none for an operator's view of every
tenant; each returns counts, never rows of orders (docs/dashboard.md).

The figures over the range add two parts: the daily rollups (``analytics_facts``) of the
placed days they cover, less the shares (``analytics_order_facts``) of the orders changed
since they were counted; and the raw rows of those changed orders and of the orders placed
outside the coverage (before it, or after the watermark's day). Every fact of one order is
in one part, so the distinct orders of a figure add up too. Without rollups (never
rebuilt) every figure is raw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Select,
    and_,
    case,
    cast,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.sql import Executable

from oms.adapters.db.repositories.rollups import SqlRollupRepository, day_start
from oms.adapters.db.tables import (
    BACKLOG_PREDICATE,
    ERROR_EVENTS_PREDICATE,
    analytics_facts,
    analytics_order_facts,
    fulfillment_orders,
    order_events,
    order_holds,
    orders,
    shipments,
    tenants,
)
from oms.services.dashboard import (
    AGE_BUCKETS,
    ERROR_CAUSES,
    BacklogCount,
    HoldCount,
    ShippingTally,
    Tally,
    Window,
)
from oms.services.rollups import RollupState

__all__ = ["SqlDashboardRepository"]

_o = orders.c
_s = shipments.c
_fo = fulfillment_orders.c
_h = order_holds.c
_ev = order_events.c
_f = analytics_facts.c
_of = analytics_order_facts.c
# The measures the dashboard sums (linear, so a changed order's share subtracts).
_SUMMED = ("n", "met", "done", "amount_e4")

# Order ids are unique across tenants (UUIDv7), so counting them needs no tenant beside.
# Open orders with units still to ship, and the fulfilment errors, written as the partial
# indexes' predicates (as constants, so that PostgreSQL sees every plan may use them).
# Each is used in a query of its one table only.
_BACKLOG = text(BACKLOG_PREDICATE)
_ERRORS = text(ERROR_EVENTS_PREDICATE)
# A split is two locations shipping or handing over the same order; a digital download
# comes from no shelf, and a rejected fulfilment order was routed again elsewhere.
_SPLIT_KINDS = ("ship", "pickup")


_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _scoped(query: _Query, column: Any, window: Window) -> _Query:
    """``query`` of the window's tenant, or of every tenant (an operator's view)."""
    if window.tenant_id is None:
        return query
    scoped: _Query = query.where(column == window.tenant_id)
    return scoped


@dataclass(frozen=True)
class _Plan:
    """Which orders a window reads from the rollups and which raw: ``facts`` (a condition
    on ``analytics_facts``: the covered placed days), ``shares`` (on
    ``analytics_order_facts``: the shares in them of the orders changed since, subtracted;
    None: no such order) and ``raw`` (on ``orders``: the changed orders and those placed
    outside the coverage). All None when there are no rollups to read."""

    facts: ColumnElement[bool] | None = None
    shares: ColumnElement[bool] | None = None
    raw: ColumnElement[bool] | None = None
    # No raw order was placed before this (None: unknown), so neither was anything of
    # theirs: a shipment or a timeline event is never dated before its order.
    raw_since: datetime | None = None


# Up to this many changed orders of a tenant are named by id (primary key probes); more
# (a worker far behind) are found by ``ix_orders_updated`` in each query instead.
_BY_ID = 200


class SqlDashboardRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgres = conn.dialect.name == "postgresql"
        self._prepared = False
        self._plans: dict[Window, _Plan] = {}
        self._rolled: dict[Window, Any] = {}

    def _plan(self, window: Window) -> _Plan:
        """Split the window's orders between the rollups and the raw rows (once)."""
        if window in self._plans:
            return self._plans[window]
        rollups = SqlRollupRepository(self._conn)
        states = rollups.states(window.tenant_id)
        plan = _Plan()
        if states:
            facts: list[ColumnElement[bool]] = []
            shares: list[ColumnElement[bool]] = []
            raw: list[ColumnElement[bool]] = []
            # Every tenant's raw orders were placed after this (None: some may be older).
            bounds: list[datetime] | None = []
            for state in states:
                tenant = _o.tenant_id == state.tenant_id
                if state.covered_to < state.covered_from:
                    raw.append(tenant)
                    bounds = None
                    continue
                covered = and_(
                    _f.placed_day >= state.covered_from, _f.placed_day <= state.covered_to
                )
                facts.append(and_(_f.tenant_id == state.tenant_id, covered))
                after = day_start(state.covered_to + timedelta(days=1))
                raw.append(and_(tenant, _o.created_at >= after))
                changed, shared, earliest = self._changed(state)
                if changed is not None:
                    raw.append(changed)
                if shared is not None:
                    shares.append(shared)
                # Orders placed before the rollups' coverage (one index probe to know).
                before = self._conn.execute(
                    select(_o.id)
                    .where(tenant, _o.created_at < day_start(state.covered_from))
                    .limit(1)
                ).first()
                if before is not None:
                    raw.append(and_(tenant, _o.created_at < day_start(state.covered_from)))
                    bounds = None
                elif bounds is not None:
                    bounds.append(min(after, earliest or after))
            if window.tenant_id is None:
                covered_ids = [state.tenant_id for state in states]
                if bounds is None or self._orders_beyond(covered_ids):
                    raw.append(_o.tenant_id.not_in(covered_ids))
                    bounds = None
                else:
                    # No tenant without rollups has orders: each raw order is one of a
                    # covered tenant's (its index on (tenant_id, ...) serves).
                    raw = [and_(_o.tenant_id.in_(covered_ids), or_(*raw))]
            plan = _Plan(
                facts=or_(*facts) if facts else false(),
                shares=or_(*shares) if shares else None,
                raw=or_(*raw) if raw else false(),
                raw_since=min(bounds) if bounds else None,
            )
        self._plans[window] = plan
        return plan

    def _changed(
        self, state: RollupState
    ) -> tuple[ColumnElement[bool] | None, ColumnElement[bool] | None, datetime | None]:
        """The tenant's orders changed since its rollups' ``changed_since``: a condition on
        ``orders`` (None: no such order), one on ``analytics_order_facts`` choosing their
        shares in the covered days (None: none there), and the earliest placed of them."""
        tenant = state.tenant_id
        since = and_(_o.tenant_id == tenant, _o.updated_at >= state.changed_since)
        found = self._conn.execute(
            select(_o.id, _o.created_at).where(since).limit(_BY_ID + 1)
        ).all()
        if not found:
            return None, None, None
        if len(found) <= _BY_ID:
            # Named by id, their shares are primary key probes: a share's placed day is its
            # order's, so the covered ones are chosen here.
            covered = [
                row.id
                for row in found
                if state.covered_from <= row.created_at.astimezone(UTC).date() <= state.covered_to
            ]
            earliest: datetime = min(row.created_at for row in found)
            return (
                and_(_o.tenant_id == tenant, _o.id.in_([row.id for row in found])),
                and_(_of.tenant_id == tenant, _of.order_id.in_(covered)) if covered else None,
                earliest,
            )
        first = self._conn.execute(select(func.min(_o.created_at)).where(since)).scalar()
        shared = and_(
            _of.tenant_id == tenant,
            _of.placed_day >= state.covered_from,
            _of.placed_day <= state.covered_to,
            _of.order_id.in_(select(_o.id).where(since)),
        )
        return since, shared, first

    def _orders_beyond(self, covered: list[UUID]) -> bool:
        """Whether a tenant without rollups has an order (one index probe per such tenant)."""
        for (tenant_id,) in self._conn.execute(select(tenants.c.id)):
            if tenant_id in covered:
                continue
            probe = select(_o.id).where(_o.tenant_id == tenant_id).limit(1)
            if self._conn.execute(probe).first() is not None:
                return True
        return False

    def _rollups(self, window: Window) -> Any:
        """The rollups' rows the window reads, less the shares of the orders changed since
        they were counted (those rows negated), as a subquery; None without rollups."""
        if window in self._rolled:
            return self._rolled[window]
        plan = self._plan(window)
        rolled: Any = None
        if plan.facts is not None:
            columns = ("kind", "day", "currency", "detail")
            query: Any = select(
                *[_f[name] for name in columns], *[_f[name] for name in _SUMMED]
            ).where(plan.facts)
            if plan.shares is not None:
                query = query.union_all(
                    select(
                        *[_of[name] for name in columns],
                        *[(-_of[name]).label(name) for name in _SUMMED],
                    ).where(plan.shares)
                )
            rolled = query.subquery("rolled")
        self._rolled[window] = rolled
        return rolled

    def _facts(
        self, window: Window, kind: str, *, first: date, last: date
    ) -> tuple[Any, ColumnElement[bool]] | None:
        """The rollups' rows (``_rollups``' columns) and the condition choosing those of one
        kind on the days ``first`` to ``last``; None without rollups."""
        rolled = self._rollups(window)
        if rolled is None:
            return None
        c = rolled.c
        return c, and_(c.kind == kind, c.day >= first, c.day <= last)

    def _raw(self, window: Window) -> ColumnElement[bool] | None:
        return self._plan(window).raw

    def _rows(self, query: Executable) -> Any:
        """Run ``query``; on PostgreSQL first turn JIT compilation off for the transaction:
        these aggregates cost enough to trigger it, and compiling them took longer than
        running them (docs/performance.md, Portal)."""
        if self._postgres and not self._prepared:
            self._conn.execute(text("SET LOCAL jit = off"))
            self._prepared = True
        return self._conn.execute(query)

    def _day(self, column: Any) -> ColumnElement[Any]:
        """The UTC day of a timestamp column, as a date (PostgreSQL) or ISO text (SQLite,
        which stores UTC timestamps as ISO text)."""
        if self._postgres:
            return cast(func.timezone("UTC", column), Date)
        return func.substr(column, 1, 10)

    @staticmethod
    def _as_date(value: Any) -> date:
        return value if isinstance(value, date) else date.fromisoformat(str(value))

    def orders_per_day(self, window: Window) -> dict[date, int]:
        day = self._day(_o.created_at).label("day")
        query = _scoped(
            select(day, func.count().label("n")).where(
                _o.created_at >= window.days.start, _o.created_at < window.days.end
            ),
            _o.tenant_id,
            window,
        )
        raw = self._raw(window)
        if raw is not None:
            query = query.where(raw)
        found = {self._as_date(row.day): int(row.n) for row in self._rows(query.group_by(day))}
        facts = self._facts(window, "placed", first=window.days.first, last=window.days.last)
        if facts is not None:
            c, kind = facts
            rolled = select(c.day, func.sum(c.n).label("n")).where(kind).group_by(c.day)
            for row in self._rows(rolled):
                key = self._as_date(row.day)
                found[key] = found.get(key, 0) + int(row.n or 0)
        return {day: n for day, n in found.items() if n}

    def orders_since(self, window: Window, since: datetime) -> int:
        query = _scoped(
            select(func.count()).select_from(orders).where(_o.created_at >= since),
            _o.tenant_id,
            window,
        )
        return int(self._rows(query).scalar() or 0)

    def backlog(self, window: Window) -> list[BacklogCount]:
        day1, day2, day3 = window.age_limits
        age = case(
            (_o.created_at > day1, literal(AGE_BUCKETS[0])),
            (_o.created_at > day2, literal(AGE_BUCKETS[1])),
            (_o.created_at > day3, literal(AGE_BUCKETS[2])),
            else_=literal(AGE_BUCKETS[3]),
        ).label("age")
        query = _scoped(
            select(_o.status, age, func.count().label("n")).where(_BACKLOG),
            _o.tenant_id,
            window,
        ).group_by(_o.status, age)
        return [
            BacklogCount(status=row.status, age=row.age, orders=int(row.n))
            for row in self._rows(query)
        ]

    def holds(self, window: Window) -> list[HoldCount]:
        late = func.sum(case((_h.due_at < window.now, 1), else_=0)).label("late")
        query = _scoped(
            select(_h.reason, func.count().label("n"), late).where(_h.released_at.is_(None)),
            _h.tenant_id,
            window,
        ).group_by(_h.reason)
        return [
            HoldCount(reason=row.reason, open=int(row.n), past_sla=int(row.late or 0))
            for row in self._rows(query)
        ]

    def shipments_since(self, window: Window, since: datetime) -> Tally:
        query = _scoped(
            select(
                func.count().label("n"),
                func.count(distinct(_s.order_id)).label("o"),
            ).where(_s.created_at >= since),
            _s.tenant_id,
            window,
        )
        row = self._rows(query).one()
        return Tally(of=int(row.n or 0), met=int(row.o or 0))

    def shipping(self, window: Window) -> list[ShippingTally]:
        raw = self._raw(window)
        source: Any = shipments
        if raw is not None:
            source = shipments.join(
                orders, and_(_o.tenant_id == _s.tenant_id, _o.id == _s.order_id)
            )
        query = _scoped(
            select(
                _s.currency,
                func.count().label("n"),
                func.count(distinct(_s.order_id)).label("o"),
                func.sum(_s.cost).label("cost"),
            )
            .select_from(source)
            .where(_s.created_at >= window.days.start, _s.created_at < window.days.end),
            _s.tenant_id,
            window,
        )
        if raw is not None:
            query = query.where(raw)
        since = self._plan(window).raw_since
        if since is not None:
            query = query.where(_s.created_at >= since)
        found = {
            row.currency: ShippingTally(
                currency=row.currency,
                shipments=int(row.n),
                orders=int(row.o),
                cost=Decimal(str(row.cost or 0)),
            )
            for row in self._rows(query.group_by(_s.currency))
        }
        first, last = window.days.first, window.days.last
        costs = self._facts(window, "shipment", first=first, last=last)
        # An order counts once, on its first shipping day of the range: the rows of
        # ship_orders whose previous shipping day (detail) is before the range.
        firsts = self._facts(window, "ship_orders", first=first, last=last)
        if costs is None or firsts is None:
            return list(found.values())
        c, shipped = costs
        _, first_shipped = firsts
        ordered = {
            row.currency: int(row.n or 0)
            for row in self._rows(
                select(c.currency, func.sum(c.n).label("n"))
                .where(first_shipped, or_(c.detail.is_(None), c.detail < first.isoformat()))
                .group_by(c.currency)
            )
        }
        per_currency = select(
            c.currency, func.sum(c.n).label("n"), func.sum(c.amount_e4).label("e4")
        ).where(shipped)
        for row in self._rows(per_currency.group_by(c.currency)):
            before = found.get(row.currency, ShippingTally(row.currency, 0, 0, Decimal(0)))
            found[row.currency] = ShippingTally(
                currency=row.currency,
                shipments=before.shipments + int(row.n or 0),
                orders=before.orders + ordered.get(row.currency, 0),
                cost=before.cost + Decimal(int(row.e4 or 0)) / 10000,
            )
        return list(found.values())

    def on_time(self, window: Window) -> Tally:
        raw = self._raw(window)
        # Each order due in the range with its first shipment (None: not shipped).
        due_query = _scoped(
            select(
                _o.promised_ship_by.label("due"),
                func.min(_s.created_at).label("shipped_at"),
            )
            .select_from(
                orders.outerjoin(
                    shipments, and_(_s.tenant_id == _o.tenant_id, _s.order_id == _o.id)
                )
            )
            .where(
                _o.promised_ship_by >= window.days.first,
                _o.promised_ship_by <= window.days.last,
                _o.status != "cancelled",
            ),
            _o.tenant_id,
            window,
        )
        if raw is not None:
            due_query = due_query.where(raw)
        due = due_query.group_by(_o.tenant_id, _o.id, _o.promised_ship_by).subquery()
        counted = or_(due.c.shipped_at.is_not(None), due.c.due < window.today)
        query = select(
            func.sum(case((counted, 1), else_=0)).label("of"),
            func.sum(case((self._day(due.c.shipped_at) <= due.c.due, 1), else_=0)).label("met"),
        )
        row = self._rows(query).one()
        of, met = int(row.of or 0), int(row.met or 0)
        # A day of the rollups before today counts every order due; from today on, the
        # shipped ones (done).
        facts = self._facts(window, "due", first=window.days.first, last=window.days.last)
        if facts is not None:
            c, due_kind = facts
            rolled = self._rows(
                select(
                    func.sum(case((c.day < window.today, c.n), else_=c.done)).label("of"),
                    func.sum(c.met).label("met"),
                ).where(due_kind)
            ).one()
            of, met = of + int(rolled.of or 0), met + int(rolled.met or 0)
        return Tally(of=of, met=met)

    def splits(self, window: Window) -> Tally:
        per_order = _scoped(
            select(func.count(distinct(_fo.location_id)).label("locations"))
            .select_from(
                fulfillment_orders.join(
                    orders, and_(_o.tenant_id == _fo.tenant_id, _o.id == _fo.order_id)
                )
            )
            .where(
                _o.created_at >= window.days.start,
                _o.created_at < window.days.end,
                _fo.kind.in_(_SPLIT_KINDS),
                _fo.status != "rejected",
            ),
            _o.tenant_id,
            window,
        )
        raw = self._raw(window)
        if raw is None:
            grouped = per_order.group_by(_fo.tenant_id, _fo.order_id).subquery()
            query = select(
                func.count().label("of"),
                func.sum(case((grouped.c.locations > 1, 1), else_=0)).label("met"),
            )
        else:
            # The few raw orders first, each counting its locations by its own index.
            locations = (
                select(func.count(distinct(_fo.location_id)))
                .where(
                    _fo.tenant_id == _o.tenant_id,
                    _fo.order_id == _o.id,
                    _fo.kind.in_(_SPLIT_KINDS),
                    _fo.status != "rejected",
                )
                .scalar_subquery()
            )
            each = _scoped(
                select(locations.label("locations")).where(
                    _o.created_at >= window.days.start, _o.created_at < window.days.end, raw
                ),
                _o.tenant_id,
                window,
            ).subquery()
            query = select(
                func.sum(case((each.c.locations > 0, 1), else_=0)).label("of"),
                func.sum(case((each.c.locations > 1, 1), else_=0)).label("met"),
            )
        row = self._rows(query).one()
        of, met = int(row.of or 0), int(row.met or 0)
        facts = self._facts(window, "split", first=window.days.first, last=window.days.last)
        if facts is not None:
            c, split_kind = facts
            rolled = self._rows(
                select(func.sum(c.n).label("of"), func.sum(c.met).label("met")).where(split_kind)
            ).one()
            of, met = of + int(rolled.of or 0), met + int(rolled.met or 0)
        return Tally(of=of, met=met)

    def fulfilment_errors(self, window: Window) -> dict[str, int]:
        raw = self._raw(window)
        source: Any = order_events
        if raw is not None:
            source = order_events.join(
                orders, and_(_o.tenant_id == _ev.tenant_id, _o.id == _ev.order_id)
            )
        query = _scoped(
            select(_ev.type, func.count().label("n"))
            .select_from(source)
            .where(
                _ERRORS,
                _ev.created_at >= window.days.start,
                _ev.created_at < window.days.end,
            ),
            _ev.tenant_id,
            window,
        )
        if raw is not None:
            query = query.where(raw)
        since = self._plan(window).raw_since
        if since is not None:
            query = query.where(_ev.created_at >= since)
        found = {ERROR_CAUSES[row.type]: int(row.n) for row in self._rows(query.group_by(_ev.type))}
        facts = self._facts(window, "error", first=window.days.first, last=window.days.last)
        if facts is not None:
            c, error_kind = facts
            per_type = (
                select(c.detail, func.sum(c.n).label("n"))
                .where(error_kind, c.detail.in_(ERROR_CAUSES))
                .group_by(c.detail)
            )
            for row in self._rows(per_type):
                cause = ERROR_CAUSES[row.detail]
                found[cause] = found.get(cause, 0) + int(row.n or 0)
        return found
