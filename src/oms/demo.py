"""Demo data for ``oms demo``: one merchant served from a 3PL's warehouses and its own store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from oms.adapters.geocoding.offline import OfflineGeocoder
from oms.adapters.payments.registry import gateway_named
from oms.demo_fulfilment import DEMO_BOXES, DemoTimeline, seed_fulfilment, seed_todays_wave
from oms.domain.addresses import Address
from oms.domain.catalogue import BundleComponent, LocationKind, ProductKind
from oms.domain.holds import HoldReason
from oms.domain.orders import Actor, Customer
from oms.domain.pickup_codes import PickupCodeKey
from oms.domain.pricing import DiscountCode, DiscountKind
from oms.domain.risk import RiskRuleKind
from oms.domain.tenancy import ApiKeyScope, Principal, Tenant
from oms.services import (
    carriers,
    catalogue,
    discounts,
    holds,
    intake,
    inventory,
    orders,
    risk,
    routing_profiles,
    tenants,
)
from oms.services.ports import UnitOfWorkFactory
from oms.services.shipping import CarrierProvider

__all__ = ["DemoKeys", "seed_demo"]

DEMO_TENANT = "Demo Outfitters"
SYSTEM = Actor("system", "demo")


@dataclass(frozen=True)
class DemoKeys:
    tenant_id: UUID
    api_key: str
    operator_key: str
    slug: str = ""  # the demo shop's name in its order status page's URL


def _find_demo_tenant(uow_factory: UnitOfWorkFactory) -> Tenant | None:
    with uow_factory(readonly=True) as uow:
        for tenant_id in uow.tenants.list_ids():
            tenant = uow.tenants.get(tenant_id)
            if tenant is not None and tenant.name == DEMO_TENANT:
                return tenant
    return None


def seed_demo(
    *,
    uow_factory: UnitOfWorkFactory,
    carrier_gateway: CarrierProvider,
    pickup_key: PickupCodeKey,
    now: datetime,
) -> DemoKeys:
    """Seed the demo once; later runs only issue fresh keys for the existing demo. Its
    history is told back from ``now`` (``DemoTimeline``), never from the wall clock."""
    timeline = DemoTimeline.back_from(now)
    operator = tenants.create_api_key(
        uow_factory=uow_factory,
        scope=ApiKeyScope.OPERATOR,
        tenant_id=None,
        name="demo operator",
        at=now,
    )
    existing = _find_demo_tenant(uow_factory)
    if existing is not None:
        key = tenants.create_api_key(
            uow_factory=uow_factory,
            scope=ApiKeyScope.TENANT,
            tenant_id=existing.id,
            name="demo",
            at=now,
        )
        return DemoKeys(existing.id, key.secret, operator.secret, existing.slug)

    opened = timeline.opened
    tenant, key = tenants.create_tenant(uow_factory=uow_factory, name=DEMO_TENANT, at=opened)
    op = Principal(key_id=operator.key_id, scope=ApiKeyScope.OPERATOR, tenant_id=None)
    merchant = Principal(key_id=key.key_id, scope=ApiKeyScope.TENANT, tenant_id=tenant.id)
    warehouses = [
        ("WH-EAST", "East warehouse (Newark)", "Newark", "NJ", "07102", 40.7357, -74.1724, 10),
        ("WH-WEST", "West warehouse (Reno)", "Reno", "NV", "89502", 39.5296, -119.8138, 20),
    ]
    for code, name, city, region, postal, lat, lon, priority in warehouses:
        location = catalogue.create_location(
            uow_factory=uow_factory,
            principal=op,
            command=catalogue.NewLocation(
                code=code,
                name=name,
                address=Address(country="US", city=city, region=region, postal_code=postal),
                latitude=lat,
                longitude=lon,
                priority=priority,
                boxes=DEMO_BOXES,
            ),
            at=opened,
        )
        catalogue.grant_location(
            uow_factory=uow_factory,
            principal=op,
            ref=str(location.id),
            tenant_id=tenant.id,
            at=opened,
        )
    catalogue.create_location(
        uow_factory=uow_factory,
        principal=merchant,
        command=catalogue.NewLocation(
            code="STORE-NYC",
            name="SoHo store",
            kind=LocationKind.STORE,
            address=Address(country="US", city="New York", region="NY", postal_code="10012"),
            latitude=40.7233,
            longitude=-74.0030,
            can_pickup=True,
            priority=50,
            boxes=DEMO_BOXES,
        ),
        at=opened,
    )

    catalog = [
        ("TEE-BLK-M", "Organic tee, black, M", "24.00", 180),
        ("TEE-WHT-M", "Organic tee, white, M", "24.00", 180),
        ("HOODIE-GRY-L", "Heavyweight hoodie, grey, L", "68.00", 750),
        ("CAP-NAVY", "Six-panel cap, navy", "28.00", 120),
        ("SOCKS-3PK", "Merino socks, 3 pack", "19.50", 150),
        ("BOTTLE-750", "Steel bottle 750 ml", "32.00", 420),
        ("JACKET-RAIN-M", "Rain jacket, M", "149.00", 640),
        ("TOTE-CANVAS", "Canvas tote", "18.00", 200),
    ]
    for sku, name, price, grams in catalog:
        catalogue.create_product(
            uow_factory=uow_factory,
            tenant_id=tenant.id,
            command=catalogue.NewProduct(
                sku=sku, name=name, price=Decimal(price), currency="USD", weight_grams=grams
            ),
            at=opened,
        )
    catalogue.create_product(
        uow_factory=uow_factory,
        tenant_id=tenant.id,
        command=catalogue.NewProduct(
            sku="GIFT-CARD-50",
            name="E-gift card $50",
            price=Decimal("50.00"),
            currency="USD",
            kind=ProductKind.DIGITAL,
            download_url="https://example.com/demo/gift-card-50.pdf",
        ),
        at=opened,
    )
    catalogue.create_product(
        uow_factory=uow_factory,
        tenant_id=tenant.id,
        command=catalogue.NewProduct(
            sku="KIT-STARTER",
            name="Starter kit: tee, cap and tote",
            price=Decimal("59.00"),
            currency="USD",
            kind=ProductKind.BUNDLE,
            components=(
                BundleComponent("TEE-BLK-M", 1),
                BundleComponent("CAP-NAVY", 1),
                BundleComponent("TOTE-CANVAS", 1),
            ),
        ),
        at=opened,
    )

    stock = {
        "WH-EAST": {
            "TEE-BLK-M": 40,
            "TEE-WHT-M": 35,
            "HOODIE-GRY-L": 12,
            "CAP-NAVY": 25,
            "SOCKS-3PK": 60,
            "BOTTLE-750": 3,
            "TOTE-CANVAS": 30,
        },
        "WH-WEST": {
            "TEE-BLK-M": 20,
            "HOODIE-GRY-L": 8,
            "CAP-NAVY": 10,
            "BOTTLE-750": 15,
            "JACKET-RAIN-M": 6,
            "TOTE-CANVAS": 10,
        },
        "STORE-NYC": {"TEE-BLK-M": 5, "CAP-NAVY": 4, "SOCKS-3PK": 8},
    }
    for code, levels in stock.items():
        for sku, units in levels.items():
            inventory.adjust_inventory(
                uow_factory=uow_factory,
                tenant_id=tenant.id,
                command=inventory.Adjustment(
                    sku=sku, location_code=code, set_on_hand=units, reason="opening stock count"
                ),
                actor=SYSTEM,
                at=opened,
            )

    _seed_orders(uow_factory, tenant.id, carrier_gateway, pickup_key, timeline)
    return DemoKeys(tenant.id, key.secret, operator.secret, tenant.slug)


@dataclass(frozen=True)
class _Sample:
    external_id: str
    lines: tuple[tuple[str, int], ...]
    channel: str = "shopify"
    email: str = "ada@example.com"
    ship_to: Address | None = None
    payment: intake.ChannelPayment | None = None
    codes: tuple[str, ...] = ()
    then: str | None = None  # "cancel" or "hold"


DEMO_RATES = """
- carrier: parcelco
  code: ground
  name: ParcelCo Ground
  currency: USD
  zones:
    distance_bands:
      - {up_to_km: 400, zone: regional}
      - {up_to_km: 1500, zone: national}
      - {up_to_km: .inf, zone: coast-to-coast}
  prices:
    - {zone: regional, transit_days: 2, per_kg_over: "0.60",
       breaks: [{up_to_grams: 1000, price: "6.20"}, {up_to_grams: 5000, price: "8.90"}]}
    - {zone: national, transit_days: 4, per_kg_over: "0.95",
       breaks: [{up_to_grams: 1000, price: "8.40"}, {up_to_grams: 5000, price: "12.80"}]}
    - {zone: coast-to-coast, transit_days: 5, per_kg_over: "1.30",
       breaks: [{up_to_grams: 1000, price: "10.90"}, {up_to_grams: 5000, price: "17.50"}]}
- carrier: parcelco
  code: express
  name: ParcelCo Express
  currency: USD
  zones:
    distance_bands:
      - {up_to_km: 1500, zone: near}
      - {up_to_km: .inf, zone: far}
  prices:
    - {zone: near, transit_days: 1, per_kg_over: "2.00",
       breaks: [{up_to_grams: 1000, price: "18.00"}, {up_to_grams: 5000, price: "26.00"}]}
    - {zone: far, transit_days: 2, per_kg_over: "3.00",
       breaks: [{up_to_grams: 1000, price: "29.00"}, {up_to_grams: 5000, price: "41.00"}]}
"""


def _seed_orders(
    uow_factory: UnitOfWorkFactory,
    tenant_id: UUID,
    carrier_gateway: CarrierProvider,
    pickup_key: PickupCodeKey,
    timeline: DemoTimeline,
) -> None:
    """Orders in every state the operations lead meets, holds of every reason included."""
    now, opened = timeline.now, timeline.opened
    carriers.import_rate_cards(
        uow_factory=uow_factory, principal=None, text=DEMO_RATES, fmt="yaml", at=opened
    )
    routing_profiles.put_routing_profile(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        raw={
            "handling_cost": {"STORE-NYC": "4.50"},
            "default_handling_cost": "2.00",
            "split_penalty": "3.00",
            "safety_stock": {"STORE-NYC": 2},
        },
        actor=SYSTEM,
        at=opened,
    )
    geocoder = OfflineGeocoder()
    boston = Address(
        country="US",
        name="Ada Lovelace",
        line1="12 Analytical Way",
        city="Boston",
        region="MA",
        postal_code="02110",
    )
    paid = intake.ChannelPayment(gateway="manual", captured=True)
    card = intake.ChannelPayment(gateway="test", token="tok_approve")
    discounts.create_discount_code(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        code=DiscountCode(
            id=UUID(int=0),
            code="WELCOME10",
            kind=DiscountKind.PERCENTAGE,
            value=Decimal(10),
            usage_limit=100,
            per_customer_limit=1,
        ),
        at=opened,
    )
    risk.create_risk_rule(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        kind=RiskRuleKind.ORDER_VALUE_ABOVE,
        params={"amount": "1500.00", "currency": "USD"},
        at=opened,
    )
    seed_fulfilment(
        uow_factory=uow_factory,
        tenant_id=tenant_id,
        carriers=carrier_gateway,
        ship_to=boston,
        timeline=timeline,
        pickup_key=pickup_key,
        geocoder=geocoder,
    )
    samples = [
        _Sample("SHOP-1001", (("TEE-BLK-M", 2), ("CAP-NAVY", 1)), ship_to=boston, payment=paid),
        _Sample(
            "SHOP-1002",
            (("JACKET-RAIN-M", 1), ("SOCKS-3PK", 2)),
            ship_to=boston,
            payment=card,
            codes=("WELCOME10",),
            email="grace@example.com",
        ),
        _Sample("API-7", (("BOTTLE-750", 6),), channel="api", ship_to=boston, payment=paid),
        _Sample("SHOP-1003", (("JACKET-RAIN-M", 9),), ship_to=boston, payment=paid),
        _Sample(
            "POS-88",
            (("KIT-STARTER", 2), ("GIFT-CARD-50", 1)),
            channel="pos",
            ship_to=boston,
            payment=paid,
        ),
        _Sample("SHOP-1004", (("HOODIE-GRY-L", 1),), ship_to=boston, payment=paid, then="cancel"),
        _Sample("SHOP-1005", (("TOTE-CANVAS", 2),), ship_to=boston),
        _Sample(
            "SHOP-1006",
            (("TEE-WHT-M", 1),),
            payment=paid,
            ship_to=Address(
                country="US",
                name="Alan Turing",
                line1="1 Bletchley Rd",
                city="Boston",
                region="MA",
                postal_code="0211",
            ),
        ),
        _Sample(
            "SHOP-1007", (("SOCKS-3PK", 1),), ship_to=boston, payment=paid, email="not-an-email"
        ),
        _Sample(
            "SHOP-1008",
            (("HOODIE-GRY-L", 20), ("JACKET-RAIN-M", 1)),
            ship_to=boston,
            payment=paid,
            email="big.spender@example.com",
        ),
        _Sample("SHOP-1009", (("CAP-NAVY", 1),), ship_to=boston, payment=paid, then="hold"),
        _Sample(
            "SHOP-1010",
            (("TEE-BLK-M", 1),),
            ship_to=boston,
            payment=intake.ChannelPayment(gateway="test", token="tok_decline"),
        ),
    ]
    for sample in samples:
        placed = intake.place_order(
            uow_factory=uow_factory,
            gateways=gateway_named,
            geocoder=geocoder,
            tenant_id=tenant_id,
            command=intake.PlaceOrder(
                channel=sample.channel,
                external_id=sample.external_id,
                currency="USD",
                customer=Customer(email=sample.email, name="Demo customer"),
                shipping_address=sample.ship_to,
                lines=tuple(intake.LineRequest(sku=s, quantity=q) for s, q in sample.lines),
                shipping_price=Decimal("7.95"),
                discount_codes=sample.codes,
                payment=sample.payment,
            ),
            actor=SYSTEM,
            at=now,
        )
        if sample.then == "cancel":
            orders.cancel_order(
                uow_factory=uow_factory,
                tenant_id=tenant_id,
                order_id=placed.order.id,
                actor=SYSTEM,
                reason="customer changed their mind",
                at=now,
            )
        elif sample.then == "hold":
            holds.place_hold(
                uow_factory=uow_factory,
                tenant_id=tenant_id,
                order_id=placed.order.id,
                reason=HoldReason.MANUAL,
                note="customer asked us to wait for a second item",
                actor=SYSTEM,
                at=now,
            )
    seed_todays_wave(uow_factory=uow_factory, tenant_id=tenant_id, now=now, pickup_key=pickup_key)
