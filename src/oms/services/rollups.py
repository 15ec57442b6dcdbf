"""Analytics' daily rollups: kept by the worker, rebuilt on demand, read by the dashboard
and ``/v1/analytics``.

The rollups (``analytics_facts``, written by ``oms.adapters.db.repositories.rollups``)
count the orders a tenant placed on a UTC day: placed, due, split, shipped (by carrier,
service, location), delivered, errors, units and sales by SKU and channel, each counted on
the day it happened. They are keyed by the day the order was **placed**, which never
changes: an order that changes makes its placed day be counted again from the raw rows,
whole. So keeping them is idempotent — a replay, a restart or two workers at once rewrite
the same rows with the same figures, and nothing is ever added to a count.

Per tenant, ``RollupState`` says what they hold: every order placed from ``covered_from``
whose last change (``orders.updated_at``) is before ``watermark``. ``refresh`` (the worker,
``oms timers``) recounts the placed days of the orders changed since the last watermark
(less ``MARGIN``, for transactions that committed late) and moves the watermark to now;
``rebuild`` (``oms analytics rebuild [--since]``) recounts every day and turns them on for
a tenant. The kinds the dashboard reads are also kept per order (each order's share, as the
last recount of its day found it, written with the day's rows), so a reader that needs
exact figures (the dashboard) reads the rollups of the covered days (``covered_from`` to
``covered_to``), subtracts the shares of the orders changed since ``changed_since`` and
reads those orders raw, with the orders placed outside the coverage. docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from uuid import UUID

from oms.domain.errors import FieldError, InvalidRequest
from oms.services.ports import UnitOfWorkFactory

__all__ = [
    "MARGIN",
    "RebuildReport",
    "RollupRepository",
    "RollupState",
    "rebuild",
    "refresh",
    "runs",
]

MARGIN = timedelta(minutes=2)
"""How long a transaction may take to commit after stamping ``updated_at``: changes of the
last ``MARGIN`` before a watermark are counted again by the next refresh, and read raw."""


@dataclass(frozen=True)
class RollupState:
    tenant_id: UUID
    covered_from: date
    watermark: datetime

    @property
    def covered_to(self) -> date:
        """The last placed day the rollups cover: the watermark's (UTC)."""
        return self.watermark.astimezone(UTC).date()

    @property
    def changed_since(self) -> datetime:
        """Orders changed at or after this may be missing from the rollups."""
        return self.watermark - MARGIN


class RollupRepository(Protocol):
    """The rollups of ``analytics_facts`` and their state, per tenant."""

    def state(self, tenant_id: UUID, *, for_update: bool = False) -> RollupState | None: ...
    def save_state(self, state: RollupState, *, at: datetime) -> None: ...
    def first_placed_day(self, tenant_id: UUID) -> date | None: ...
    def changed_days(self, tenant_id: UUID, since: datetime) -> set[date]: ...
    def recount(self, tenant_id: UUID, first: date, last: date) -> int: ...
    def sample_stock(self, tenant_id: UUID, *, at: datetime, since: datetime | None) -> int:
        """Record the day's lowest availability of the levels changed since ``since`` (None:
        all) or out now (``stock_days``: stock-out days)."""
        ...

    def flag_stockouts(self, tenant_id: UUID, since: date) -> int:
        """Judge the sampled days out from ``since`` on again (``stock_days.stockout``,
        ``oms.domain.stockouts.judge_days_out``); the flags changed."""
        ...

    def claim_nightly(
        self, tenant_id: UUID, day: date, *, now: datetime, lease: timedelta
    ) -> bool: ...
    def finish_nightly(self, tenant_id: UUID, day: date, *, now: datetime) -> None: ...


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Days as runs of consecutive days, first to last, in order."""
    found: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if found and found[-1][1] + timedelta(days=1) == day:
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


def refresh(
    *, uow_factory: UnitOfWorkFactory, now: datetime, tenant_ids: Sequence[UUID] | None = None
) -> int:
    """Count again the placed days of every order changed since each tenant's watermark
    (less ``MARGIN``); tenants never rebuilt are left alone. The days recounted."""
    if tenant_ids is None:
        with uow_factory(readonly=True) as uow:
            tenant_ids = uow.tenants.list_ids()
    recounted = 0
    for tenant_id in tenant_ids:
        with uow_factory() as uow:
            # Locked: a second worker refreshing the tenant waits, then recounts the same
            # days again (the same rows), instead of colliding on their keys.
            state = uow.rollups.state(tenant_id, for_update=True)
            if state is None:
                continue
            days = uow.rollups.changed_days(tenant_id, state.changed_since)
            for first, last in runs(d for d in days if d >= state.covered_from):
                uow.rollups.recount(tenant_id, first, last)
                recounted += (last - first).days + 1
            uow.rollups.sample_stock(tenant_id, at=now, since=state.changed_since)
            # Days out are judged by the units routed then: from the first day whose
            # routed rollups or samples changed.
            sampled = min(now, state.changed_since).astimezone(UTC).date()
            uow.rollups.flag_stockouts(
                tenant_id, min([sampled, *(d for d in days if d >= state.covered_from)])
            )
            uow.rollups.save_state(
                RollupState(tenant_id, state.covered_from, max(now, state.watermark)), at=now
            )
            uow.commit()
    return recounted


@dataclass(frozen=True)
class RebuildReport:
    tenants: int
    days: int
    rows: int


def rebuild(
    *,
    uow_factory: UnitOfWorkFactory,
    now: datetime,
    since: date | None = None,
    tenant_ids: Sequence[UUID] | None = None,
) -> RebuildReport:
    """Count every placed day from ``since`` (default: each tenant's first order) to
    today again, and cover it from then on (one transaction per tenant)."""
    today = now.astimezone(UTC).date()
    if since is not None and since > today:
        raise InvalidRequest(
            "The rebuild starts after today", [FieldError("since", "today or before")]
        )
    if tenant_ids is None:
        with uow_factory(readonly=True) as uow:
            tenant_ids = uow.tenants.list_ids()
    tenants = days = rows = 0
    for tenant_id in tenant_ids:
        with uow_factory() as uow:
            uow.rollups.state(tenant_id, for_update=True)
            first = since or uow.rollups.first_placed_day(tenant_id) or today
            rows += uow.rollups.recount(tenant_id, first, today)
            uow.rollups.sample_stock(tenant_id, at=now, since=None)
            uow.rollups.flag_stockouts(tenant_id, first)
            uow.rollups.save_state(RollupState(tenant_id, first, now), at=now)
            uow.commit()
        tenants += 1
        days += (today - first).days + 1
    return RebuildReport(tenants=tenants, days=days, rows=rows)
