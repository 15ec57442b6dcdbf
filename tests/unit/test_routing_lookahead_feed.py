"""What feeds the look-ahead (oms.services.routing_lookahead): forecasts through the demand
port (its in-memory fake here) and unit costs from rate cards, read once per UTC day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import uuid5

from oms.adapters.memory.demand import MemoryDemandUow
from oms.domain.addresses import Address
from oms.domain.catalogue import Location, LocationKind
from oms.domain.forecasting import Backtest, DemandForecast, ForecastPoint
from oms.domain.rate_import import parse_rate_cards
from oms.domain.routing import Candidate, RoutingLine
from oms.domain.routing_lookahead import LookaheadSettings
from oms.domain.routing_profile import RoutingProfile
from oms.services.ports import UnitOfWork
from oms.services.routing_lookahead import OutlookCache, lookahead_for
from oms.services.routing_network import Network
from tests.integration.test_routing import RATES, SITES
from tests.unit.test_routing import NAMESPACE

TENANT = uuid5(NAMESPACE, "tenant")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ON = RoutingProfile(lookahead=LookaheadSettings(True, Decimal(1), 14))


def _network(stock: dict[str, int]) -> Network:
    locations = {
        uuid5(NAMESPACE, code): Location(
            id=uuid5(NAMESPACE, code),
            code=code,
            name=code,
            kind=LocationKind.WAREHOUSE,
            latitude=lat,
            longitude=lon,
            address=Address(country="DE"),
        )
        for code, (lat, lon, _) in SITES.items()
    }
    candidates = [
        Candidate(uuid5(NAMESPACE, code), code, {"X": units}, 100, Decimal(0))
        for code, units in stock.items()
    ]
    return Network(ON, locations, candidates, [])


def _forecast(location: str, per_day: float) -> DemandForecast:
    first = AT.date()
    points = tuple(
        ForecastPoint(first + timedelta(days=i), per_day, 0, per_day, 0, per_day) for i in range(56)
    )
    return DemandForecast(
        "X", location, AT, first - timedelta(days=1), "AutoETS", "smooth", points,
        Backtest(0.8, 3), 1.0,
    )  # fmt: skip


def test_forecasts_and_unit_costs_feed_the_term_and_are_read_once_a_day() -> None:
    fake = MemoryDemandUow()
    fake.demand.put_forecasts(TENANT, [_forecast("NEAR", 1.0)])
    uow = cast(UnitOfWork, cast(Any, fake))
    services = parse_rate_cards(RATES, fmt="yaml")
    net = _network({"NEAR": 1, "BONN": 30})
    cache = OutlookCache()
    line = RoutingLine(1, 1, 500, {"X": 1})

    def feed(at: datetime) -> Any:
        return lookahead_for(
            uow, tenant_id=TENANT, profile=ON, net=net, services=services, lines=[line], at=at,
            cache=cache,
        )  # fmt: skip

    ahead = feed(AT)
    outlook = ahead.outlooks["X"]
    assert outlook.demand == {"BONN": 0.0, "FAR": 0.0, "NEAR": 14.0}
    # Cologne's NEAR ships its own place locally (4.00), BONN is 'near' (5.00).
    assert outlook.unit_cost["NEAR", "NEAR"] == Decimal("4.00")
    assert outlook.unit_cost["BONN", "NEAR"] == Decimal("5.00")
    assert ahead.penalty("NEAR", "X", 1, 1) == Decimal("1.0000")
    assert ahead.penalty("BONN", "X", 30, 1) == 0
    reads = cache.reads
    assert reads == 3  # one per (SKU, location)
    feed(AT + timedelta(hours=5))
    assert cache.reads == reads  # the same day: nothing read again
    feed(AT + timedelta(days=1))
    assert cache.reads == 2 * reads


def test_with_the_option_off_there_is_no_term() -> None:
    fake = MemoryDemandUow()
    uow = cast(UnitOfWork, cast(Any, fake))
    off = lookahead_for(
        uow, tenant_id=TENANT, profile=RoutingProfile(), net=_network({"NEAR": 1}),
        services=parse_rate_cards(RATES, fmt="yaml"), lines=[RoutingLine(1, 1, 500, {"X": 1})],
        at=AT,
    )  # fmt: skip
    assert off is None
