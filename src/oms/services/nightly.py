"""The nightly decisions, per tenant, from its ``nightly_hour`` (UTC, a tenant policy) once
a day: the last days' orders into the demand history (stock-out days censored), forecasts
of every SKU, the analytics rollups caught up, and the replenishment suggestions counted
(they are computed when read; the count goes to the log and the report).

``oms worker`` calls ``run_nightly`` every ``--nightly-seconds`` (its clock passed in as
``now``). Each tenant's day is claimed in ``nightly_runs`` before the work and marked done
after, so a restart, a second worker or the next tick that day does not run it again; a
run that died is taken over once its claim is older than ``LEASE``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from oms.services.demand import refresh_order_demand
from oms.services.forecasting import ForecastEngine, ForecastRun, run_forecasts
from oms.services.ports import UnitOfWorkFactory
from oms.services.replenishment import suggest_purchases
from oms.services.rollups import refresh

__all__ = ["LEASE", "NightlyRun", "run_nightly"]

log = logging.getLogger("oms.nightly")

LEASE = timedelta(hours=6)
"""How long a started nightly run is left to its worker before another may take it over."""


@dataclass(frozen=True)
class NightlyRun:
    """What one tenant's nightly run did."""

    tenant_id: UUID
    day: date
    forecast: ForecastRun = field(default_factory=ForecastRun)
    rollup_days: int = 0
    purchase_lines: int = 0
    transfers: int = 0


def run_nightly(
    *,
    uow_factory: UnitOfWorkFactory,
    engine: ForecastEngine,
    now: datetime,
    tenant_ids: Sequence[UUID] | None = None,
    order_days: int = 3,
    lease: timedelta = LEASE,
) -> list[NightlyRun]:
    """Run the nightly decisions of every tenant (or ``tenant_ids``) whose nightly hour has
    come today (UTC) and whose day is not done nor being done; the runs made."""
    now = now.astimezone(UTC)
    today = now.date()
    if tenant_ids is None:
        with uow_factory(readonly=True) as uow:
            tenant_ids = uow.tenants.list_ids()
    done: list[NightlyRun] = []
    for tenant_id in tenant_ids:
        with uow_factory(readonly=True) as uow:
            hour = uow.tenants.policies(tenant_id).nightly_hour
        if now.hour < hour:
            continue
        with uow_factory() as uow:
            claimed = uow.rollups.claim_nightly(tenant_id, today, now=now, lease=lease)
            uow.commit()
        if not claimed:
            continue
        refresh_order_demand(uow_factory=uow_factory, tenant_id=tenant_id, now=now, days=order_days)
        forecast = run_forecasts(
            uow_factory=uow_factory, engine=engine, tenant_id=tenant_id, now=now
        )
        recounted = refresh(uow_factory=uow_factory, now=now, tenant_ids=[tenant_id])
        found = suggest_purchases(uow_factory=uow_factory, tenant_id=tenant_id, today=today)
        with uow_factory() as uow:
            uow.rollups.finish_nightly(tenant_id, today, now=now)
            uow.commit()
        run = NightlyRun(
            tenant_id=tenant_id,
            day=today,
            forecast=forecast,
            rollup_days=recounted,
            purchase_lines=sum(len(g.lines) for g in found.suppliers),
            transfers=len(found.transfers),
        )
        log.info(
            "nightly %s %s: %d series forecast, %d purchase lines, %d transfers suggested",
            tenant_id,
            today,
            forecast.series,
            run.purchase_lines,
            run.transfers,
        )
        done.append(run)
    return done
