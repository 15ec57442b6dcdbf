"""The nightly decisions on SQLite and PostgreSQL, on injected clocks: a tenant's run starts
at its nightly hour (a policy), forecasts its SKUs, and runs once a UTC day however often
the worker checks or restarts; a run that died is taken over after its lease, not before."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.domain.demand import DailySeries
from oms.domain.errors import InvalidRequest
from oms.domain.policies import TenantPolicies
from oms.services.demand import import_sales_history
from oms.services.forecasting import SeriesForecast
from oms.services.nightly import LEASE, run_nightly
from oms.services.policies import get_policies
from tests.builders import add_location

DAY = date(2037, 6, 10)


def _at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC) + timedelta(days=days)


@dataclass
class CountingEngine:
    """Weekday means, counting the series it is asked for; fails when told to."""

    calls: list[int] = field(default_factory=list)
    fail: bool = False

    def forecast(self, series: Sequence[DailySeries], *, horizon: int) -> list[SeriesForecast]:
        if self.fail:
            raise RuntimeError("the engine died")
        self.calls.append(len(series))
        return WeekdayMeanEngine().forecast(series, horizon=horizon)


def _tenant_with_history(uow: SqlUnitOfWorkFactory, tenant_id: UUID, hour: int) -> None:
    with uow() as unit:
        unit.tenants.set_policies(tenant_id, TenantPolicies(nightly_hour=hour))
        unit.commit()
    add_location(uow, tenant_id, "NIGHT")
    lines = ["date,sku,location,quantity"] + [
        f"{(DAY - timedelta(days=i)).isoformat()},LAMP,NIGHT,{3 + i % 2}" for i in range(1, 36)
    ]
    import_sales_history(uow_factory=uow, tenant_id=tenant_id, text="\n".join(lines))


def test_the_nightly_hour_is_a_policy_from_0_to_23(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    assert get_policies(uow_factory=uow_factory, tenant_id=tenant_id).nightly_hour == 2
    assert TenantPolicies.from_dict({"nightly_hour": 23}).nightly_hour == 23
    with pytest.raises(InvalidRequest, match="policies are not valid"):
        TenantPolicies.from_dict({"nightly_hour": 24})


def test_a_tenant_runs_from_its_hour_once_a_day(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    _tenant_with_history(uow_factory, tenant_id, hour=3)
    engine = CountingEngine()

    def tick(now: datetime) -> int:
        return len(
            run_nightly(uow_factory=uow_factory, engine=engine, now=now, tenant_ids=[tenant_id])
        )

    assert tick(_at(2, 59)) == 0  # before its hour
    assert engine.calls == []
    [run] = run_nightly(
        uow_factory=uow_factory, engine=engine, now=_at(3, 0), tenant_ids=[tenant_id]
    )
    assert run.day == DAY
    assert run.forecast.series == 2  # LAMP over all locations and at NIGHT
    with uow_factory(readonly=True) as uow:
        stored = uow.demand.forecast(tenant_id, "LAMP", "NIGHT")
    assert stored is not None
    assert stored.made_at == _at(3, 0)
    # Later ticks that day, and a restarted worker (a new call, nothing in memory): no rerun.
    assert [tick(_at(3, 1)), tick(_at(9, 0)), tick(_at(23, 59))] == [0, 0, 0]
    assert len(engine.calls) == 1
    # The next day, from the hour again.
    assert tick(_at(2, 0, days=1)) == 0
    assert tick(_at(3, 30, days=1)) == 1
    assert len(engine.calls) == 2


def test_a_run_that_died_is_taken_over_after_its_lease(
    uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID
) -> None:
    _tenant_with_history(uow_factory, tenant_id, hour=1)
    engine = CountingEngine(fail=True)
    with pytest.raises(RuntimeError):
        run_nightly(uow_factory=uow_factory, engine=engine, now=_at(1), tenant_ids=[tenant_id])
    engine.fail = False
    # Claimed and not done: another worker leaves it while the claim may be alive.
    soon = _at(1) + LEASE - timedelta(minutes=1)
    assert (
        run_nightly(uow_factory=uow_factory, engine=engine, now=soon, tenant_ids=[tenant_id]) == []
    )
    later = _at(1) + LEASE + timedelta(minutes=1)
    [run] = run_nightly(uow_factory=uow_factory, engine=engine, now=later, tenant_ids=[tenant_id])
    assert run.forecast.series == 2
    assert (
        run_nightly(uow_factory=uow_factory, engine=engine, now=later, tenant_ids=[tenant_id]) == []
    )
