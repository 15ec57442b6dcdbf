"""Tenant isolation over HTTP: another tenant's rows answer exactly like missing ones.

Two tenants get look-alike worlds (one location code and one SKU in common). Every ``/v1``
route that takes an id is called with the other tenant's id and with an id that exists
nowhere; both must get the same answer, so a caller cannot even learn that the row exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.orders import Actor
from oms.services.carrier_gateway import LabelRequest, PurchasedLabel
from oms.services.deliveries import Fanout, OutboxEntry
from oms.services.shipping import ShipRequest, create_shipment
from tests.api.order_support import VALID_ADDRESS
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    fill_path,
    new_tenant,
    order_body,
    path_parameters,
    place_order,
    served_routes,
    set_on_hand,
    stock_of,
    walk_pages,
)


@dataclass(frozen=True)
class Side:
    """One tenant's world: what it created, and the identifiers its lists must show."""

    tenant: ApiTenant
    location: dict[str, Any]
    product: dict[str, Any]
    order: dict[str, Any]
    location_ids: frozenset[str]
    product_ids: frozenset[str]
    skus: frozenset[str]
    order_ids: set[str]  # grows when a test makes more of their orders (their_work)

    @property
    def headers(self) -> dict[str, str]:
        return self.tenant.headers


@dataclass(frozen=True)
class World:
    mine: Side
    theirs: Side
    client: TestClient
    uow: SqlUnitOfWorkFactory


def _build_side(
    client: TestClient,
    tenant: ApiTenant,
    *,
    own_sku: str,
    stock: dict[tuple[str, str], int],
    extra_codes: tuple[str, ...],
    order_lines: tuple[tuple[str, int], ...],
) -> Side:
    locations = [create_location(client, tenant, code) for code in ("WH-1", *extra_codes)]
    products = [create_product(client, tenant, sku) for sku in (own_sku, "SHARED")]
    for (sku, code), units in stock.items():
        set_on_hand(client, tenant, sku, code, units)
    order = place_order(client, tenant, *order_lines, customer={"email": "buyer@example.com"})
    return Side(
        tenant=tenant,
        location=locations[0],
        product=products[0],
        order=order,
        location_ids=frozenset(loc["id"] for loc in locations),
        product_ids=frozenset(p["id"] for p in products),
        skus=frozenset(p["sku"] for p in products),
        order_ids={order["id"]},
    )


def _build_world(client: TestClient, uow_factory: SqlUnitOfWorkFactory) -> World:
    mine = _build_side(
        client,
        new_tenant(uow_factory, "mine"),
        own_sku="MINE-1",
        stock={("MINE-1", "WH-1"): 10, ("SHARED", "WH-1"): 5},
        extra_codes=(),
        order_lines=(("MINE-1", 2),),
    )
    theirs = _build_side(
        client,
        new_tenant(uow_factory, "theirs"),
        own_sku="THEIRS-1",
        stock={("THEIRS-1", "WH-1"): 10, ("SHARED", "WH-1"): 70, ("SHARED", "FAR-AWAY"): 3},
        extra_codes=("FAR-AWAY",),
        order_lines=(("THEIRS-1", 1), ("SHARED", 4)),
    )
    return World(mine=mine, theirs=theirs, client=client, uow=uow_factory)


@pytest.fixture(scope="module")
def world(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> World:
    """Shared by the tests that read, or that try a write which must change nothing."""
    return _build_world(client, api_uow)


@pytest.fixture
def fresh_world(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> World:
    """For the tests that change a tenant's data on purpose."""
    return _build_world(client, api_uow)


def _missing_id(parameter: str) -> str:
    """An id that exists for nobody."""
    return f"NO-SUCH-{uuid4().hex[:8]}" if parameter == "sku" else str(uuid4())


def _created_by_them(world: World, path: str, body: dict[str, Any]) -> str:
    """The id of something the other tenant creates with ``POST path`` (or made before: a
    hold of a reason already open is answered with 200)."""
    response = world.client.post(path, headers=world.theirs.headers, json=body)
    assert response.status_code in (200, 201), response.text
    created_id: str = response.json()["id"]
    return created_id


def _their_open_hold(world: World) -> str:
    hold_path = f"/v1/orders/{world.theirs.order['id']}/holds"
    return _created_by_them(world, hold_path, {"reason": "manual", "note": "checking"})


def _their_customer(world: World) -> str:
    response = world.client.get("/v1/customers", headers=world.theirs.headers)
    assert response.status_code == 200, response.text
    customer_id: str = response.json()["items"][0]["id"]
    return customer_id


def _their_order(world: World) -> list[str]:
    return [world.theirs.order["id"]]


class _StubCarrier:
    """Sells a label for anything: this module has no rate cards (they are deployment-wide)."""

    name = "stub"

    def buy_label(self, request: LabelRequest) -> PurchasedLabel:
        return PurchasedLabel(
            tracking_number=f"ST{uuid4().int % 10**9:09d}OM",
            cost=Decimal("5.00"),
            currency="EUR",
            tracking_url="http://127.0.0.1:8000/track/x",
            carrier="stub",
            service="ground",
            deliver_by=None,
        )

    def tracking_url(self, tracking_number: str) -> str:
        return f"http://127.0.0.1:8000/track/{tracking_number}"


@dataclass(frozen=True)
class Work:
    """The other tenant's warehouse work: a fulfilment order, its wave and a shipment."""

    fulfillment_order: str
    wave: str
    shipment: str
    package: str


# Keyed by their tenant: a world object id can be reused once a fresh world is collected.
_WORK: dict[UUID, Work] = {}


def _their_work(world: World) -> Work:
    """Made once per world: a paid order of theirs picked, packed and shipped at WH-1."""
    if world.theirs.tenant.id in _WORK:
        return _WORK[world.theirs.tenant.id]
    client, headers = world.client, world.theirs.headers
    order = place_order(
        client,
        world.theirs.tenant,
        ("THEIRS-1", 1),
        customer={"email": "buyer@example.com"},
        shipping_address=VALID_ADDRESS,
        payment={"gateway": "manual", "captured": True},
    )
    world.theirs.order_ids.add(order["id"])
    fos = client.get(f"/v1/orders/{order['id']}/fulfillment-orders", headers=headers).json()
    fo_id = fos["items"][0]["id"]
    wave = client.post("/v1/locations/WH-1/pick-waves", headers=headers, json={})
    assert wave.status_code == 201, wave.text
    confirmed = client.post(f"/v1/pick-waves/{wave.json()['id']}/confirm", headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    packed = client.post(
        f"/v1/fulfillment-orders/{fo_id}/packages", headers=headers, json={"scans": ["THEIRS-1"]}
    )
    assert packed.status_code == 201, packed.text
    shipment = create_shipment(
        uow_factory=world.uow,
        gateways=gateway_named,
        carriers=lambda _uow: _StubCarrier(),
        tenant_id=world.theirs.tenant.id,
        fo_id=UUID(fo_id),
        request=ShipRequest(carrier="stub", service="ground"),
        actor=Actor("system", "test"),
    ).resource
    _WORK[world.theirs.tenant.id] = Work(
        fo_id, wave.json()["id"], str(shipment.id), packed.json()["id"]
    )
    return _WORK[world.theirs.tenant.id]


def _their_fo(world: World) -> list[str]:
    return [_their_work(world).fulfillment_order]


def _their_own_code(_world: World) -> list[str]:
    """A location code only the other tenant has (both have "WH-1", each meaning its own)."""
    return ["FAR-AWAY"]


def _their_endpoint(world: World) -> list[str]:
    return [
        _created_by_them(
            world,
            "/v1/webhook-endpoints",
            {"url": "https://93.184.215.14/hooks", "event_types": ["*"]},
        )
    ]


def _their_delivery(world: World) -> list[str]:
    """One of their webhook endpoints and a delivery to it (as the worker would fan out)."""
    endpoint_id = _their_endpoint(world)[0]
    tenant_id, now = world.theirs.tenant.id, datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    entry = OutboxEntry(tenant_id, uuid4(), "order.placed", UUID(endpoint_id), {}, now)
    with world.uow() as uow:
        uow.deliveries.publish(
            [Fanout(entry, "order.created", {}, [("webhook", endpoint_id)])], at=now
        )
        uow.commit()
    listed = world.client.get(
        f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=world.theirs.headers
    )
    return [endpoint_id, listed.json()["items"][0]["id"]]


@dataclass(frozen=True)
class IdRoute:
    """How to call one id-taking route with another tenant's ids, or with missing ones."""

    method: str
    path: str
    foreign_ids: Callable[[World], list[str]]
    body: Callable[[World], dict[str, Any]] | dict[str, Any] | None = None
    headers: Callable[[World], dict[str, str]] | None = None
    # What a tenant key gets for either id: 404, except where tenant keys may not go at all.
    status: int = 404
    # What the owner gets for its own ids; 0: depends on state, but is never a 404.
    owner_status: int = 200

    def call(self, client: TestClient, world: World, side: Side, ids: list[str]) -> Any:
        return client.request(
            self.method,
            fill_path(self.path, *ids),
            headers={**side.headers, **(self.headers(world) if self.headers else {})},
            json=self.body(world) if callable(self.body) else self.body,
        )

    def missing_ids(self) -> list[str]:
        return [_missing_id(name) for name in path_parameters(self.path)]


def _their_forecast(world: World) -> list[str]:
    """Their SKU, with a forecast made for it (a week of flat history at their WH-1)."""
    from oms.adapters.memory.forecasting import WeekdayMeanEngine
    from oms.services.demand import import_sales_history
    from oms.services.forecasting import run_forecasts

    sku = str(world.theirs.product["sku"])
    now = datetime(2036, 1, 8, tzinfo=UTC)
    rows = [f"2036-01-0{day},{sku},WH-1,2" for day in range(1, 8)]
    history = "\n".join(["date,sku,location,quantity", *rows])
    tenant_id = world.theirs.tenant.id
    import_sales_history(uow_factory=world.uow, tenant_id=tenant_id, text=history)
    engine = WeekdayMeanEngine()
    run_forecasts(uow_factory=world.uow, engine=engine, tenant_id=tenant_id, now=now, horizon=7)
    return [sku]


_FO = "/v1/fulfillment-orders/{fulfillment_order_id}"

_HOOK = "/v1/webhook-endpoints/{endpoint_id}"
_WEBHOOK_ROUTES = [
    IdRoute("GET", _HOOK, _their_endpoint),
    IdRoute("DELETE", _HOOK, _their_endpoint, owner_status=204),
    IdRoute("POST", f"{_HOOK}/rotate-secret", _their_endpoint),
    IdRoute("GET", f"{_HOOK}/deliveries", _their_endpoint),
    IdRoute("POST", f"{_HOOK}/replay", _their_endpoint, body={"since": "2026-01-01T00:00:00Z"}),
    IdRoute("GET", f"{_HOOK}/deliveries/{{delivery_id}}", _their_delivery),
    IdRoute("POST", f"{_HOOK}/deliveries/{{delivery_id}}/retry", _their_delivery),
]


def _their_purchase_order(world: World) -> list[str]:
    """A draft purchase order of theirs, to a supplier of theirs, for their WH-1."""
    supplier = _created_by_them(
        world,
        "/v1/suppliers",
        {"name": "Their supplier", "lead_time_days": 7, "currency": "EUR"},
    )
    body = {
        "supplier_id": supplier,
        "location": "WH-1",
        "expected_at": "2026-12-24",
        "lines": [{"sku": "THEIRS-1", "quantity": 5, "unit_cost": "1.00"}],
    }
    return [_created_by_them(world, "/v1/purchase-orders", body)]


def _their_inbound_shipment(world: World) -> list[str]:
    body = {
        "location": "WH-1",
        "reference": "ASN-THEIRS",
        "lines": [{"sku": "THEIRS-1", "expected_quantity": 3}],
    }
    return [_created_by_them(world, "/v1/inbound-shipments", body)]


def _their_count_sheet(world: World) -> list[str]:
    body = {"location": "WH-1", "skus": ["THEIRS-1"]}
    return [_created_by_them(world, "/v1/cycle-counts", body)]


def _their_transfer(world: World) -> list[str]:
    body = {"from": "WH-1", "to": "FAR-AWAY", "lines": [{"sku": "THEIRS-1", "quantity": 1}]}
    return [_created_by_them(world, "/v1/transfers", body)]


def _their_supplier(world: World) -> list[str]:
    body = {"name": "Their supplier", "lead_time_days": 7, "currency": "EUR"}
    return [_created_by_them(world, "/v1/suppliers", body)]


def _their_supplier_sku(world: World) -> list[str]:
    """A supplier of theirs and a SKU of theirs to link to it."""
    return [*_their_supplier(world), "THEIRS-1"]


_PO = "/v1/purchase-orders/{po_id}"
_ASN = "/v1/inbound-shipments/{shipment_id}"
_UNIT = {"lines": [{"sku": "THEIRS-1", "quantity": 1}]}
_INBOUND_ROUTES = [
    IdRoute(
        "PUT",
        "/v1/suppliers/{supplier_id}/skus/{sku}",
        _their_supplier_sku,
        body={"unit_cost": "1.00"},
    ),
    IdRoute(
        "POST",
        "/v1/replenishment/suggestions/{supplier_id}/draft-po",
        _their_supplier,
        owner_status=0,
    ),
    IdRoute("GET", _PO, _their_purchase_order),
    IdRoute("POST", f"{_PO}/send", _their_purchase_order),
    IdRoute("POST", f"{_PO}/cancel", _their_purchase_order),
    IdRoute("POST", f"{_PO}/receipts", _their_purchase_order, body=_UNIT, owner_status=0),
    IdRoute("GET", _ASN, _their_inbound_shipment),
    IdRoute("POST", f"{_ASN}/receipts", _their_inbound_shipment, body=_UNIT),
    IdRoute("POST", f"{_ASN}/putaway", _their_inbound_shipment, body=_UNIT, owner_status=0),
    IdRoute("POST", f"{_ASN}/close", _their_inbound_shipment),
    IdRoute("GET", "/v1/transfers/{transfer_id}", _their_transfer),
    IdRoute("POST", "/v1/transfers/{transfer_id}/ship", _their_transfer, owner_status=0),
    IdRoute(
        "POST", "/v1/transfers/{transfer_id}/receipts", _their_transfer, body=_UNIT, owner_status=0
    ),
    IdRoute("GET", "/v1/cycle-counts/{sheet_id}", _their_count_sheet),
    IdRoute(
        "POST",
        "/v1/cycle-counts/{sheet_id}/counts",
        _their_count_sheet,
        body={"lines": [{"sku": "THEIRS-1", "counted": 1}]},
        owner_status=0,
    ),
    IdRoute(
        "POST",
        "/v1/cycle-counts/{sheet_id}/approve",
        _their_count_sheet,
        body={"reason": "probe"},
        owner_status=0,
    ),
]


def _their_shipped_order(world: World) -> list[str]:
    """The order of their shipment (``_their_work``): one unit of line 1 shipped."""
    path = f"/v1/shipments/{_their_work(world).shipment}"
    shipment = world.client.get(path, headers=world.theirs.headers)
    assert shipment.status_code == 200, shipment.text
    return [str(shipment.json()["order_id"])]


# Keyed by their tenant, like _WORK: the shipped unit can be asked back once.
_RETURNS: dict[UUID, str] = {}


def _their_return(world: World) -> list[str]:
    """A return of theirs, asking the shipped unit back."""
    if world.theirs.tenant.id not in _RETURNS:
        order_id = _their_shipped_order(world)[0]
        body = {"lines": [{"line_no": 1, "quantity": 1, "reason": "changed_mind"}]}
        path = f"/v1/orders/{order_id}/returns"
        _RETURNS[world.theirs.tenant.id] = _created_by_them(world, path, body)
    return [_RETURNS[world.theirs.tenant.id]]


_RETURN = "/v1/returns/{return_id}"
_RETURN_ROUTES = [
    IdRoute("GET", _RETURN, _their_return),
    IdRoute("POST", f"{_RETURN}/approve", _their_return, owner_status=0),
    IdRoute("POST", f"{_RETURN}/reject", _their_return, body={"note": "probe"}, owner_status=0),
    IdRoute("POST", f"{_RETURN}/label", _their_return, body={"location": "WH-1"}, owner_status=0),
    IdRoute(
        "POST",
        f"{_RETURN}/receive",
        _their_return,
        body={
            "location": "WH-1",
            "lines": [{"line_no": 1, "quantity": 1, "disposition": "restock"}],
        },
        owner_status=0,
    ),
    IdRoute(
        "POST",
        f"{_RETURN}/refund",
        _their_return,
        headers=lambda _: {"Idempotency-Key": f"probe-{uuid4().hex}"},
        owner_status=0,
    ),
    IdRoute(
        "POST",
        "/v1/orders/{order_id}/returns",
        _their_shipped_order,
        body={"lines": [{"line_no": 1, "quantity": 1, "reason": "changed_mind"}]},
        owner_status=0,  # their unit may be asked back already: 409
    ),
    IdRoute(
        "POST",
        "/v1/orders/{order_id}/till-returns",
        _their_shipped_order,
        body={
            "receipt_id": "probe",
            "store_location": "WH-1",
            "lines": [{"line_no": 1, "quantity": 1, "reason": "changed_mind"}],
        },
        owner_status=0,  # their unit may be asked back already: 409
    ),
    IdRoute(
        "POST",
        "/v1/orders/{order_id}/claims",
        _their_shipped_order,
        body={"lines": [{"line_no": 1, "quantity": 1}], "kind": "lost", "resolution": "refund"},
        owner_status=0,
    ),
]


def _their_channel(world: World) -> list[str]:
    body = {"kind": "api", "name": f"channel {uuid4().hex[:8]}"}
    return [_created_by_them(world, "/v1/channels", body)]


_CHANNEL = "/v1/channels/{channel_id}"
_CHANNEL_ROUTES = [
    IdRoute("GET", _CHANNEL, _their_channel),
    IdRoute("PATCH", _CHANNEL, _their_channel, body={"push_stock": True}),
    IdRoute("DELETE", _CHANNEL, _their_channel, owner_status=204),
    IdRoute("GET", f"{_CHANNEL}/sync-log", _their_channel),
]

ID_ROUTES = [
    IdRoute("GET", _FO, _their_fo),
    IdRoute("GET", f"{_FO}/packages", _their_fo),
    IdRoute("GET", f"{_FO}/packing-slip", _their_fo),
    IdRoute("POST", f"{_FO}/reject", _their_fo, body={"reason": "probe"}, owner_status=0),
    IdRoute("POST", f"{_FO}/move", _their_fo, body={"location": "WH-1"}, owner_status=0),
    IdRoute("POST", f"{_FO}/pickup", _their_fo, body={"code": "123456"}, owner_status=0),
    IdRoute("POST", f"{_FO}/packages", _their_fo, body={"scans": ["X"]}, owner_status=0),
    IdRoute(
        "DELETE",
        f"{_FO}/packages/{{package_id}}",
        lambda w: [_their_work(w).fulfillment_order, _their_work(w).package],
        owner_status=0,  # theirs has shipped: 409
    ),
    IdRoute("POST", f"{_FO}/shipments", _their_fo, body={}, owner_status=0),
    IdRoute("GET", "/v1/pick-waves/{wave_id}", lambda w: [_their_work(w).wave]),
    IdRoute("GET", "/v1/pick-waves/{wave_id}/pick-list", lambda w: [_their_work(w).wave]),
    IdRoute(
        "POST", "/v1/pick-waves/{wave_id}/confirm", lambda w: [_their_work(w).wave], owner_status=0
    ),
    IdRoute("GET", "/v1/shipments/{shipment_id}", lambda w: [_their_work(w).shipment]),
    IdRoute("GET", "/v1/shipments/{shipment_id}/label", lambda w: [_their_work(w).shipment]),
    IdRoute("GET", "/v1/shipments/{shipment_id}/customs", lambda w: [_their_work(w).shipment]),
    # A domestic shipment needs no commercial invoice: its owner gets 409, never a 404.
    IdRoute(
        "GET",
        "/v1/shipments/{shipment_id}/commercial-invoice",
        lambda w: [_their_work(w).shipment],
        owner_status=0,
    ),
    IdRoute("GET", "/v1/orders/{order_id}/fulfillment-orders", _their_order),
    IdRoute("GET", "/v1/orders/{order_id}/shipments", _their_order),
    IdRoute("GET", "/v1/orders/{order_id}/downloads", _their_order),
    # A location code only the other tenant has.
    IdRoute(
        "POST",
        "/v1/locations/{location}/pick-waves",
        lambda _w: ["FAR-AWAY"],
        body={},
        owner_status=0,
    ),
    # Carriers are not tenants: without a valid signature nobody gets anywhere.
    IdRoute(
        "POST",
        "/v1/carriers/{carrier}/events",
        lambda _w: ["acme"],
        body={"events": []},
        status=401,
        owner_status=401,
    ),
    IdRoute("GET", "/v1/products/{product_id}", lambda w: [w.theirs.product["id"]]),
    IdRoute(
        "PATCH", "/v1/products/{product_id}", lambda w: [w.theirs.product["id"]], body={"name": "p"}
    ),
    IdRoute(
        "DELETE", "/v1/products/{product_id}", lambda w: [w.theirs.product["id"]], owner_status=204
    ),
    IdRoute("GET", "/v1/locations/{location}", lambda w: [w.theirs.location["id"]]),
    IdRoute("PATCH", "/v1/locations/{location}", _their_own_code, body={"name": "probe"}),
    # Stock is reserved at their WH-1; at FAR-AWAY only perhaps: 204 or 409, never 404.
    IdRoute("DELETE", "/v1/locations/{location}", _their_own_code, owner_status=0),
    IdRoute(
        "POST",
        "/v1/locations/{location}/grants",
        lambda w: [w.theirs.location["id"]],
        body=lambda w: {"tenant_id": str(w.mine.tenant.id)},
        status=403,  # granting is for operator keys; see the operator tests below
    ),
    IdRoute(
        "PUT",
        "/v1/locations/{location}/boxes",
        _their_own_code,
        body={
            "boxes": [
                {
                    "code": "S",
                    "length_mm": 200,
                    "width_mm": 150,
                    "height_mm": 100,
                    "max_weight_grams": 5000,
                }
            ]
        },
    ),
    IdRoute(
        "PUT",
        "/v1/locations/{location}/bins",
        _their_own_code,
        body={"bins": [{"sku": "SHARED", "bin": "A-01-3"}]},
    ),
    IdRoute("GET", "/v1/locations/{location}/bins", _their_own_code),
    IdRoute("GET", "/v1/inventory/{sku}", lambda w: [w.theirs.product["sku"]]),
    IdRoute("GET", "/v1/inventory/{sku}/movements", lambda w: [w.theirs.product["sku"]]),
    IdRoute("GET", "/v1/forecasts/{sku}", _their_forecast),
    IdRoute("GET", "/v1/orders/{order_id}", _their_order),
    IdRoute(
        "PATCH",
        "/v1/orders/{order_id}",
        _their_order,
        body={"shipping_address": {"country": "DE", "city": "Berlin", "line1": "Probe 1"}},
        headers=lambda w: {"If-Match": f'"{w.theirs.order["version"]}"'},
        owner_status=0,
    ),
    IdRoute("GET", "/v1/orders/{order_id}/events", _their_order),
    IdRoute("GET", "/v1/orders/{order_id}/routing", _their_order),
    IdRoute("POST", "/v1/orders/{order_id}/reroute", _their_order, body={"reason": "probe"}),
    IdRoute("POST", "/v1/orders/{order_id}/cancel", _their_order, body={"reason": "probe"}),
    IdRoute(
        "POST",
        "/v1/orders/{order_id}/holds",
        _their_order,
        body={"reason": "manual", "note": "probe"},
        owner_status=201,
    ),
    IdRoute(
        "POST",
        "/v1/orders/{order_id}/holds/{hold_id}/release",
        lambda w: [*_their_order(w), _their_open_hold(w)],
        body={"note": "probe"},
    ),
    *[
        IdRoute("POST", f"/v1/orders/{{order_id}}/payments/{action}", _their_order, owner_status=0)
        for action in ("authorize", "capture", "refund", "void")
    ],
    IdRoute(
        "GET",
        "/v1/discount-codes/{code_id}",
        lambda w: [
            _created_by_them(
                w,
                "/v1/discount-codes",
                {"code": f"SAVE-{uuid4().hex[:6]}", "kind": "percentage", "value": "10"},
            )
        ],
    ),
    IdRoute("GET", "/v1/customers/{customer_id}", lambda w: [_their_customer(w)]),
    IdRoute("GET", "/v1/customers/{customer_id}/store-credit", lambda w: [_their_customer(w)]),
    IdRoute(
        "DELETE",
        "/v1/risk-rules/{rule_id}",
        lambda w: [
            _created_by_them(
                w, "/v1/risk-rules", {"kind": "blocked_domain", "params": {"domains": ["x.test"]}}
            )
        ],
        owner_status=204,
    ),
    *[
        IdRoute(
            method,
            path,
            lambda w: [
                _created_by_them(
                    w, "/v1/reservations", {"lines": [{"sku": "THEIRS-1", "quantity": 1}]}
                )
            ],
        )
        for method, path in (
            ("GET", "/v1/reservations/{reservation_id}"),
            ("POST", "/v1/reservations/{reservation_id}/release"),
        )
    ],
    *_WEBHOOK_ROUTES,
    *_INBOUND_ROUTES,
    # A merchant's statement (the current month; without a price list the owner gets 409).
    *[
        IdRoute("GET", path, lambda w: [str(w.theirs.tenant.id)], owner_status=0)
        for path in (
            "/v1/billing/statements/{tenant_id}",
            "/v1/billing/statements/{tenant_id}/csv",
            "/v1/billing/statements/{tenant_id}/pdf",
        )
    ],
    *_CHANNEL_ROUTES,
    *_RETURN_ROUTES,
]
ROUTE_ID = "{0.method} {0.path}".format
# Routes whose path parameters name something every tenant has (a template), not a
# tenant's resource; an id in their body has its own isolation test beside the route's.
NAMED_ROUTES = {("POST", "/v1/notification-templates/{name}/preview")}


def _without(ids: list[str], body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True)
    for some_id in ids:
        text = text.replace(some_id, "<id>")
    return text


def test_every_v1_route_that_takes_an_id_has_an_isolation_case(client: TestClient) -> None:
    routes = {
        (method, path)
        for method, path in served_routes(client.app)  # type: ignore[arg-type]
        if path.startswith("/v1/") and path_parameters(path)
    }

    assert routes - NAMED_ROUTES == {(r.method, r.path) for r in ID_ROUTES}


@pytest.mark.parametrize("route", ID_ROUTES, ids=ROUTE_ID)
def test_another_tenants_id_answers_exactly_like_a_missing_one(
    client: TestClient, world: World, route: IdRoute
) -> None:
    foreign_ids, missing_ids = route.foreign_ids(world), route.missing_ids()

    foreign = route.call(client, world, world.mine, foreign_ids)
    missing = route.call(client, world, world.mine, missing_ids)

    assert _without(foreign_ids, assert_problem(foreign, route.status)) == _without(
        missing_ids, assert_problem(missing, route.status)
    )


@pytest.mark.parametrize("route", [r for r in ID_ROUTES if r.status == 404], ids=ROUTE_ID)
def test_the_owner_reaches_the_same_ids_on_every_route(
    client: TestClient, request: pytest.FixtureRequest, route: IdRoute
) -> None:
    # A read changes nothing: it may take the module's world; a write takes a fresh one.
    owned: World = request.getfixturevalue("world" if route.method == "GET" else "fresh_world")
    response = route.call(client, owned, owned.theirs, route.foreign_ids(owned))

    if route.owner_status:
        assert response.status_code == route.owner_status, response.text
    else:
        assert response.status_code not in (404, 500), response.text


ORDER_WRITES = [r for r in ID_ROUTES if r.method != "GET" and r.path.startswith("/v1/orders/")]


@pytest.mark.parametrize("route", ORDER_WRITES, ids=ROUTE_ID)
def test_a_write_to_another_tenants_order_answers_404_and_changes_nothing(
    client: TestClient, world: World, route: IdRoute
) -> None:
    foreign_ids = route.foreign_ids(world)
    order_path = f"/v1/orders/{world.theirs.order['id']}"
    before = client.get(order_path, headers=world.theirs.headers).json()
    stock_before = stock_of(client, world.theirs.tenant, "SHARED")

    response = route.call(client, world, world.mine, foreign_ids)

    assert_problem(response, 404, "not_found")
    assert client.get(order_path, headers=world.theirs.headers).json() == before
    assert stock_of(client, world.theirs.tenant, "SHARED") == stock_before
    assert before["status"] != "cancelled"
    assert any(allocation["quantity"] > 0 for allocation in before["allocations"])


def test_an_operator_granting_a_tenants_own_location_answers_like_a_missing_one(
    client: TestClient, fresh_world: World, operator_headers: dict[str, str]
) -> None:
    grant = {"tenant_id": str(fresh_world.mine.tenant.id)}
    foreign_id, missing_id = fresh_world.theirs.location["id"], _missing_id("location_id")

    foreign = client.post(
        f"/v1/locations/{foreign_id}/grants", headers=operator_headers, json=grant
    )
    missing = client.post(
        f"/v1/locations/{missing_id}/grants", headers=operator_headers, json=grant
    )

    assert _without([foreign_id], assert_problem(foreign, 404)) == _without(
        [missing_id], assert_problem(missing, 404)
    )
    still_hidden = client.get(f"/v1/locations/{foreign_id}", headers=fresh_world.mine.headers)
    assert_problem(still_hidden, 404)


def test_an_operator_grant_shows_an_operator_location_to_that_tenant_only(
    client: TestClient, fresh_world: World, operator_headers: dict[str, str]
) -> None:
    code = f"OP-{uuid4().hex[:8]}"
    created = client.post(
        "/v1/locations", headers=operator_headers, json={"code": code, "name": "3PL hub"}
    )
    assert created.status_code == 201, created.text
    location_id = created.json()["id"]
    assert_problem(
        client.get(f"/v1/locations/{location_id}", headers=fresh_world.mine.headers), 404
    )

    granted = client.post(
        f"/v1/locations/{location_id}/grants",
        headers=operator_headers,
        json={"tenant_id": str(fresh_world.mine.tenant.id)},
    )

    assert granted.status_code == 204, granted.text
    seen = client.get(f"/v1/locations/{location_id}", headers=fresh_world.mine.headers)
    assert seen.status_code == 200
    assert seen.json()["owner"] == "operator"
    assert_problem(
        client.get(f"/v1/locations/{location_id}", headers=fresh_world.theirs.headers), 404
    )


LISTS = [
    pytest.param("/v1/products", "id", "product_ids", id="products"),
    pytest.param("/v1/locations", "id", "location_ids", id="locations"),
    pytest.param("/v1/inventory", "sku", "skus", id="inventory"),
    pytest.param("/v1/orders", "id", "order_ids", id="orders"),
]


@pytest.mark.parametrize("viewer", ["mine", "theirs"])
@pytest.mark.parametrize(("path", "key", "expected"), LISTS)
def test_a_list_shows_exactly_the_callers_rows(
    client: TestClient, world: World, viewer: str, path: str, key: str, expected: str
) -> None:
    side: Side = getattr(world, viewer)

    pages = walk_pages(client, path, side.headers, limit=1)

    seen = [item[key] for page in pages for item in page]
    assert sorted(seen) == sorted(getattr(side, expected))


def test_a_sku_both_tenants_sell_shows_only_the_callers_stock(
    client: TestClient, world: World
) -> None:
    mine = stock_of(client, world.mine.tenant, "SHARED")
    listed = client.get("/v1/inventory", headers=world.mine.headers).json()["items"]

    assert (mine["on_hand"], mine["reserved"]) == (5, 0)
    assert [row["location_id"] for row in mine["locations"]] == [world.mine.location["id"]]
    # One SKU's answer adds what is on its way (purchase orders, transfers) to the list's row.
    row = {k: v for k, v in mine.items() if k not in ("incoming", "in_transit")}
    assert next(item for item in listed if item["sku"] == "SHARED") == row


def test_an_adjustment_at_a_location_code_only_another_tenant_has_changes_nothing(
    client: TestClient, world: World
) -> None:
    mine_before = stock_of(client, world.mine.tenant, "SHARED")
    theirs_before = stock_of(client, world.theirs.tenant, "SHARED")

    response = client.post(
        "/v1/inventory/adjustments",
        headers=world.mine.headers,
        json={"sku": "SHARED", "location": "FAR-AWAY", "delta": 5, "reason": "probe"},
    )

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == ["#/location"]
    assert stock_of(client, world.mine.tenant, "SHARED") == mine_before
    assert stock_of(client, world.theirs.tenant, "SHARED") == theirs_before


def test_an_adjustment_at_a_location_code_both_tenants_use_changes_the_callers_own(
    client: TestClient, fresh_world: World
) -> None:
    theirs_before = stock_of(client, fresh_world.theirs.tenant, "SHARED")

    response = client.post(
        "/v1/inventory/adjustments",
        headers=fresh_world.mine.headers,
        json={"sku": "SHARED", "location": "WH-1", "delta": 1, "reason": "found one"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["on_hand"] == 6
    assert stock_of(client, fresh_world.theirs.tenant, "SHARED") == theirs_before


def test_an_order_for_a_sku_only_another_tenant_sells_is_refused(
    client: TestClient, world: World
) -> None:
    theirs_before = stock_of(client, world.theirs.tenant, "THEIRS-1")

    response = client.post(
        "/v1/orders",
        headers=world.mine.headers,
        json={"currency": "EUR", "lines": [{"sku": "THEIRS-1", "quantity": 1}]},
    )

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == ["#/lines/0/sku"]
    orders = client.get("/v1/orders", headers=world.mine.headers).json()["items"]
    assert {order["id"] for order in orders} == world.mine.order_ids
    assert stock_of(client, world.theirs.tenant, "THEIRS-1") == theirs_before


@pytest.mark.parametrize("same", ["idempotency_key", "external_id"])
def test_the_same_order_key_in_two_tenants_makes_two_orders(
    client: TestClient, fresh_world: World, same: str
) -> None:
    key = uuid4().hex
    headers = {"Idempotency-Key": key} if same == "idempotency_key" else {}
    fields = {"channel": "shop", "external_id": key} if same == "external_id" else {}

    placed = [
        client.post(
            "/v1/orders",
            headers={**side.headers, **headers},
            json=order_body(("SHARED", 1), **fields),
        )
        for side in (fresh_world.mine, fresh_world.theirs)
    ]

    assert [response.status_code for response in placed] == [201, 201]
    assert placed[0].json()["id"] != placed[1].json()["id"]
