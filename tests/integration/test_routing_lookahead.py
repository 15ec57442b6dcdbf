"""Look-ahead routing through the use cases: forecasts near a location keep its last units."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.forecasting import Backtest, DemandForecast, ForecastPoint
from oms.domain.orders import Order
from oms.services.routing_profiles import put_routing_profile
from tests.builders import TESTER, order_of, place, set_stock
from tests.databases import ENGINES, own_database
from tests.integration.test_routing import COLOGNE, network  # noqa: F401  (a fixture)

MADE = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=ENGINES)
def routing_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_database(request, "routing_lookahead")


@pytest.fixture
def uow_factory(routing_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(routing_engine)


def _forecast(sku: str, location: str, per_day: float) -> DemandForecast:
    first = date(2026, 1, 5)
    points = tuple(
        ForecastPoint(first + timedelta(days=i), per_day, 0.0, per_day * 2, 0.0, per_day * 3)
        for i in range(56)
    )
    return DemandForecast(
        sku, location, MADE, first - timedelta(days=1), "AutoETS", "smooth", points,
        Backtest(0.8, 3), 1.0,
    )  # fmt: skip


def _order(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> Order:
    return place(uow, tenant_id, replace(order_of(("X", 1)), shipping_address=COLOGNE)).order


def test_with_the_option_on_the_last_unit_near_expected_demand_is_kept_and_said(
    uow_factory: SqlUnitOfWorkFactory,
    network: UUID,  # noqa: F811
) -> None:
    # NEAR (local to Cologne, 4.00) holds its last unit of X and expects about 14 orders
    # of it within the horizon; BONN (5.00) holds plenty and expects none.
    set_stock(uow_factory, network, "X", "NEAR", 1)
    set_stock(uow_factory, network, "X", "BONN", 30)
    with uow_factory() as uow:
        uow.demand.put_forecasts(network, [_forecast("X", "NEAR", 1.0)])
        uow.commit()

    myopic = _order(uow_factory, network)
    assert [a.location_code for a in myopic.allocations] == ["NEAR"]
    assert "lookahead" not in myopic.routing["rounds"][0]

    set_stock(uow_factory, network, "X", "NEAR", 2)  # one is reserved: one available again
    put_routing_profile(
        uow_factory=uow_factory,
        tenant_id=network,
        raw={"lookahead": {"enabled": True, "weight": "2", "horizon_days": 14}},
        actor=TESTER,
    )
    ahead = _order(uow_factory, network)

    assert [a.location_code for a in ahead.allocations] == ["BONN"]
    (round_,) = ahead.routing["rounds"]
    assert round_["lookahead"].startswith("kept 1 of X at NEAR for expected nearby demand, +")
    assert round_["lookahead"].endswith("this plan costs 1.00 more today")
