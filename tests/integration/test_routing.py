"""Order routing (DOM) through the use cases: cost-aware, explained, rerouted, refilled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.addresses import Address
from oms.domain.catalogue import BundleComponent, ProductKind
from oms.domain.holds import HoldReason
from oms.domain.orders import Actor, Order
from oms.domain.tenancy import ApiKeyScope, Principal
from oms.services import catalogue, intake_group
from oms.services.carriers import import_rate_cards
from oms.services.inventory import Adjustment, adjust_inventory, get_stock
from oms.services.orders import get_order
from oms.services.rerouting import reroute_order
from oms.services.routing_profiles import put_routing_profile
from tests.builders import TESTER, add_product, order_of, place, set_stock
from tests.databases import ENGINES, own_database

AT = datetime(2031, 3, 3, 9, 30, tzinfo=UTC)
"""A fixed clock for what these tests write (no test reads the wall clock)."""

RATES = """
- carrier: acme
  code: ground
  name: Acme Ground
  currency: EUR
  zones:
    distance_bands:
      - {up_to_km: 15, zone: local}
      - {up_to_km: 300, zone: near}
      - {up_to_km: .inf, zone: far}
  prices:
    - {zone: local, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "4.00"}]}
    - {zone: near, transit_days: 1, per_kg_over: "0.50",
       breaks: [{up_to_grams: 5000, price: "5.00"}]}
    - {zone: far, transit_days: 3, per_kg_over: "1.00",
       breaks: [{up_to_grams: 5000, price: "14.00"}]}
"""

# Destination: Cologne. NEAR is across the river (~9 km, local), BONN ~25 km (near),
# FAR is Munich (~450 km, far) and has the best priority.
COLOGNE = Address(
    country="DE",
    name="E M",
    line1="Heidestrasse 17",
    city="Koeln",
    postal_code="51147",
    latitude=50.94,
    longitude=6.96,
)
SITES = {"NEAR": (50.88, 7.06, 50), "FAR": (48.14, 11.58, 10), "BONN": (50.73, 7.10, 20)}


@pytest.fixture(scope="module", params=ENGINES)
def routing_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of this module's own: carrier rate cards are deployment-wide, and other
    modules' orders must not start being routed by them."""
    yield from own_database(request, "routing")


@pytest.fixture
def uow_factory(routing_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(routing_engine)


@pytest.fixture
def network(uow_factory: SqlUnitOfWorkFactory, tenant_id: UUID) -> UUID:
    import_rate_cards(uow_factory=uow_factory, principal=None, text=RATES, fmt="yaml")
    owner = Principal(key_id=UUID(int=1), scope=ApiKeyScope.TENANT, tenant_id=tenant_id)
    for code, (lat, lon, priority) in SITES.items():
        catalogue.create_location(
            uow_factory=uow_factory,
            principal=owner,
            command=catalogue.NewLocation(
                code=code,
                name=code,
                latitude=lat,
                longitude=lon,
                priority=priority,
                address=Address(country="DE"),
            ),
        )
    add_product(uow_factory, tenant_id, "X")
    add_product(uow_factory, tenant_id, "Y")
    return tenant_id


def _order(uow: SqlUnitOfWorkFactory, tenant_id: UUID, *lines: tuple[str, int]) -> Order:
    return place(uow, tenant_id, replace(order_of(*lines), shipping_address=COLOGNE)).order


def test_the_cheapest_location_wins_over_the_highest_priority_one_and_says_why(
    uow_factory: SqlUnitOfWorkFactory, network: UUID
) -> None:
    for code in SITES:
        set_stock(uow_factory, network, "X", code, 5)
    order = _order(uow_factory, network, ("X", 1))

    assert [a.location_code for a in order.allocations] == ["NEAR"]
    routing = order.routing
    assert routing["carrier_rates"] is True
    (package,) = routing["packages"]
    assert (package["location"], package["service"], package["shipping"]) == (
        "NEAR",
        "ground",
        "4.00",
    )
    (round_,) = routing["rounds"]
    assert round_["method"] == "exact"
    assert round_["why"]
    assert len(round_["considered"]) >= 2
    assert order.promised_deliver_by is not None


def test_two_near_packages_can_beat_one_far_location_and_a_split_penalty_can_reverse_it(
    uow_factory: SqlUnitOfWorkFactory, network: UUID
) -> None:
    set_stock(uow_factory, network, "X", "NEAR", 5)
    set_stock(uow_factory, network, "Y", "BONN", 5)
    set_stock(uow_factory, network, "X", "FAR", 5)
    set_stock(uow_factory, network, "Y", "FAR", 5)
    split = _order(uow_factory, network, ("X", 1), ("Y", 1))
    assert sorted(p["location"] for p in split.routing["packages"]) == ["BONN", "NEAR"]

    put_routing_profile(
        uow_factory=uow_factory, tenant_id=network, raw={"split_penalty": "10.00"}, actor=TESTER
    )
    whole = _order(uow_factory, network, ("X", 1), ("Y", 1))
    assert [p["location"] for p in whole.routing["packages"]] == ["FAR"]
    assert whole.routing_profile_version == 1


def test_daily_capacity_sends_the_next_order_to_the_second_choice(
    uow_factory: SqlUnitOfWorkFactory, network: UUID
) -> None:
    for code in SITES:
        set_stock(uow_factory, network, "X", code, 5)
    put_routing_profile(
        uow_factory=uow_factory,
        tenant_id=network,
        raw={"daily_capacity": {"NEAR": 1}},
        actor=TESTER,
    )
    first = _order(uow_factory, network, ("X", 1))
    second = _order(uow_factory, network, ("X", 1))
    assert first.routing["packages"][0]["location"] == "NEAR"
    assert second.routing["packages"][0]["location"] != "NEAR"
    rejected = {r["location"]: r["why"] for r in second.routing["rounds"][0]["rejected"]}
    assert "capacity" in rejected["NEAR"]


def test_rerouting_moves_the_order_away_from_a_location_that_cannot_fulfil(
    uow_factory: SqlUnitOfWorkFactory, network: UUID
) -> None:
    for code in ("NEAR", "FAR"):
        set_stock(uow_factory, network, "X", code, 5)
    order = _order(uow_factory, network, ("X", 2))
    moved = reroute_order(
        uow_factory=uow_factory,
        tenant_id=network,
        order_id=order.id,
        exclude=["NEAR"],
        reason="NEAR reports a flood",
        actor=TESTER,
    )
    assert [a.location_code for a in moved.allocations if a.open] == ["FAR"]
    assert [e.type for e in moved.events].count("order.rerouted") == 1
    near = get_stock(uow_factory=uow_factory, tenant_id=network, sku="X")
    by_code = {row.location.code: row.reserved for row in near.locations}
    assert by_code == {"NEAR": 0, "FAR": 2}


def test_a_backorder_is_routed_by_itself_when_stock_arrives(
    uow_factory: SqlUnitOfWorkFactory, network: UUID
) -> None:
    order = _order(uow_factory, network, ("X", 2))
    assert [h.reason for h in order.open_holds] == [HoldReason.BACKORDERED]

    adjust_inventory(
        uow_factory=uow_factory,
        tenant_id=network,
        actor=Actor("system", "t"),
        command=Adjustment(sku="X", location_code="FAR", delta=5, reason="receipt"),
    )

    filled = get_order(uow_factory=uow_factory, tenant_id=network, order_id=order.id)
    assert [(ln.allocated, ln.backordered) for ln in filled.lines] == [(2, 0)]
    assert filled.open_holds == []
    assert filled.released_at is not None
    assert "order.backorder_allocated" in [e.type for e in filled.events]


def _product(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sku: str, grams: int, **parts: int
) -> None:
    catalogue.create_product(
        uow_factory=uow,
        tenant_id=tenant_id,
        command=catalogue.NewProduct(
            sku=sku,
            name=sku,
            price=Decimal("10.00"),
            currency="EUR",
            kind=ProductKind.BUNDLE if parts else ProductKind.PHYSICAL,
            weight_grams=grams,
            components=tuple(BundleComponent(s, q) for s, q in parts.items()),
        ),
    )


def test_a_bundle_weighs_its_components_unless_it_has_a_weight_of_its_own(
    uow_factory: SqlUnitOfWorkFactory, network: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    _product(uow_factory, network, "HEAVY", 1200)
    _product(uow_factory, network, "LIGHT", 300)
    _product(uow_factory, network, "KIT", 0, HEAVY=1, LIGHT=2)  # 1,800 g a kit
    _product(uow_factory, network, "BOXED", 2500, HEAVY=1, LIGHT=2)  # weighed with its box
    set_stock(uow_factory, network, "HEAVY", "NEAR", 20)
    set_stock(uow_factory, network, "LIGHT", "NEAR", 40)

    def weights(order: Order) -> list[int]:
        return [package["weight_grams"] for package in order.routing["packages"]]

    assert weights(_order(uow_factory, network, ("KIT", 2))) == [3600]
    assert weights(_order(uow_factory, network, ("BOXED", 1), ("KIT", 1))) == [4300]

    # The same through an intake group, which reads the products once for all its orders.
    alone: list[Any] = []
    real = intake_group.place_alone

    def spy(*args: Any) -> Any:
        alone.append(args)
        return real(*args)

    monkeypatch.setattr(intake_group, "place_alone", spy)
    placed = intake_group.place_group(
        uow_factory=uow_factory,
        gateways=gateway_named,
        geocoder=None,
        submissions=[
            intake_group.Submission(
                tenant_id=network,
                command=replace(order_of(*lines, payment=None), shipping_address=COLOGNE),
                actor=TESTER,
                at=AT,
                idempotency_key=None,
                fingerprint="",
            )
            for lines in [(("KIT", 2),), (("BOXED", 1), ("KIT", 1))]
        ],
    )
    assert alone == []
    assert [weights(p.order) for p in placed if not isinstance(p, Exception)] == [[3600], [4300]]


def test_an_order_too_heavy_for_one_parcel_is_shipped_in_parcels_under_the_weight_cap(
    uow_factory: SqlUnitOfWorkFactory, network: UUID
) -> None:
    capped = RATES.replace("  currency: EUR\n", "  currency: EUR\n  max_weight_grams: 30000\n")
    import_rate_cards(uow_factory=uow_factory, principal=None, text=capped, fmt="yaml")
    _product(uow_factory, network, "ANVIL", 12_000)
    set_stock(uow_factory, network, "ANVIL", "NEAR", 3)
    set_stock(uow_factory, network, "ANVIL", "BONN", 3)

    order = _order(uow_factory, network, ("ANVIL", 3))  # 36 kg: no service takes it whole

    assert [(line.allocated, line.backordered) for line in order.lines] == [(3, 0)]
    packages = order.routing["packages"]
    assert sorted(p["weight_grams"] for p in packages) == [12_000, 24_000]
    assert sorted(p["location"] for p in packages) == ["BONN", "NEAR"]
