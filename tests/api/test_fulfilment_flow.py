"""From intake to the doorstep over HTTP: two warehouses, a store pickup and a download.

One order is split across two warehouses and carries a digital line; a second order is
collected in a store. Each goes through every step (wave, pick, pack, label, ship, carrier
tracking; or pick and collect) and stock, ledger, payments and statuses are checked after
each one; ``oms check`` finds nothing wrong at the end.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine
from typer.testing import CliRunner

from oms.adapters.carriers.signature import sign
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.cli import app
from oms.config import Settings
from oms.domain.tracking import is_valid_tracking_number
from oms.services.checks import find_invariant_violations
from tests.api.fulfilment_support import (
    COLOGNE,
    add_sites,
    get_json,
    own_engine,
    post_json,
    rated_client,
)
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    assert_problem,
    create_product,
    new_tenant,
    set_on_hand,
)
from tests.databases import ENGINES

CARD = {"gateway": "test", "token": "tok_approve"}
SITES = {
    "WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln", "postal_code": "51105"}),
    "WH-B": ("warehouse", 50.73, 7.10, {"city": "Bonn", "postal_code": "53111"}),
    "STORE-1": ("store", 50.94, 6.95, {"city": "Koeln", "postal_code": "50667"}),
}
BOXES = [
    {"code": "S", "length_mm": 200, "width_mm": 150, "height_mm": 100, "max_weight_grams": 5000},
    {"code": "L", "length_mm": 600, "width_mm": 400, "height_mm": 400, "max_weight_grams": 30000},
]


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "fulfilment_api")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def settings(api_engine: Engine) -> Settings:
    return api_settings_for(api_engine.url.render_as_string(hide_password=False))


@pytest.fixture(scope="module")
def client(
    api_engine: Engine, settings: Settings, api_uow: SqlUnitOfWorkFactory
) -> Iterator[TestClient]:
    yield from rated_client(api_engine, settings, api_uow)


@pytest.fixture
def shop(api_uow: SqlUnitOfWorkFactory, client: TestClient) -> ApiTenant:
    tenant = new_tenant(api_uow)
    add_sites(client, tenant, SITES, BOXES)
    create_product(client, tenant, "X", price="20.00", weight_grams=800, barcode="4006381333931")
    create_product(client, tenant, "Y", price="15.00", weight_grams=400)
    create_product(client, tenant, "Z", price="30.00", weight_grams=300)
    create_product(
        client,
        tenant,
        "EBOOK",
        price="9.00",
        kind="digital",
        download_url="https://files.example.com/ebook.pdf",
    )
    set_on_hand(client, tenant, "X", "WH-A", 5)
    set_on_hand(client, tenant, "Y", "WH-B", 5)
    set_on_hand(client, tenant, "Z", "STORE-1", 2)
    for code, sku, bin_ in (("WH-A", "X", "A-02-10"), ("WH-B", "Y", "B-01-1")):
        response = client.put(
            f"/v1/locations/{code}/bins",
            headers=tenant.headers,
            json={"bins": [{"sku": sku, "bin": bin_}]},
        )
        assert response.status_code == 200, response.text
    return tenant


# --- small readers ---------------------------------------------------------------------------


_get, _post = get_json, post_json


def _stock(client: TestClient, shop: ApiTenant, sku: str, code: str) -> tuple[int, int]:
    stock = _get(client, shop, f"/v1/inventory/{sku}")
    row = next(loc for loc in stock["locations"] if loc["location"] == code)
    return row["on_hand"], row["reserved"]


def _order(client: TestClient, shop: ApiTenant, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = _get(client, shop, f"/v1/orders/{order_id}")
    return order


def _quantities(order: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {line["sku"]: line["quantities"] for line in order["lines"]}


def _captured(order: dict[str, Any]) -> Decimal:
    return sum(
        (
            Decimal(p["amount"])
            for p in order["payments"]
            if p["kind"] == "capture" and p["outcome"] == "succeeded"
        ),
        Decimal(0),
    )


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _fo_at(client: TestClient, shop: ApiTenant, order_id: str, code: str) -> dict[str, Any]:
    fos = _get(client, shop, f"/v1/orders/{order_id}/fulfillment-orders")["items"]
    found: dict[str, Any] = next(
        fo for fo in fos if fo["location"] == code and fo["status"] != "cancelled"
    )
    return found


def _carrier_post(
    client: TestClient, settings: Settings, events: list[dict[str, Any]], secret: str | None = None
) -> Any:
    body = json.dumps({"events": events}).encode()
    signature = sign(body, secret or settings.carrier_webhook_secret)
    return client.post(
        "/v1/carriers/acme/events",
        content=body,
        headers={"Content-Type": "application/json", "X-OMS-Signature": signature},
    )


def _wave_pick_pack_ship(
    client: TestClient, shop: ApiTenant, code: str, fo_id: str, scans: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    wave = _post(client, shop, f"/v1/locations/{code}/pick-waves", {"max_orders": 10}, 201)
    assert fo_id in wave["fulfillment_order_ids"]
    listed = client.get(f"/v1/pick-waves/{wave['id']}/pick-list", headers=shop.headers)
    assert listed.headers["content-type"] == "application/pdf"
    confirmed = _post(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    assert confirmed["status"] == "completed"
    package = _post(client, shop, f"/v1/fulfillment-orders/{fo_id}/packages", {"scans": scans}, 201)
    shipment = _post(client, shop, f"/v1/fulfillment-orders/{fo_id}/shipments", None, 201)
    return package, shipment


# --- the flow ---------------------------------------------------------------------------------


def test_an_order_split_across_two_warehouses_with_a_pickup_and_a_download_reaches_delivered(
    client: TestClient, shop: ApiTenant, settings: Settings, api_uow: SqlUnitOfWorkFactory
) -> None:
    # Intake: paid by card; X only at WH-A, Y only at WH-B: a split. The e-book needs no stock.
    order = _post(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "EUR",
            "lines": [
                {"sku": "X", "quantity": 2},
                {"sku": "Y", "quantity": 1},
                {"sku": "EBOOK", "quantity": 1},
            ],
            "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
            "shipping_address": COLOGNE,
            "shipping_price": "4.95",
            "payment": CARD,
        },
        201,
    )
    order_id = order["id"]
    total = Decimal(order["total"])
    assert total == Decimal("68.95")
    order = _order(client, shop, order_id)
    assert order["released_at"] is not None
    assert order["fulfillment_status"] == "partially_delivered"  # the e-book, at once
    assert _quantities(order)["EBOOK"]["delivered"] == 1
    assert _captured(order) == Decimal("9.00")  # the e-book's value, no more
    assert _stock(client, shop, "X", "WH-A") == (5, 2)
    assert _stock(client, shop, "Y", "WH-B") == (5, 1)
    fo_a = _fo_at(client, shop, order_id, "WH-A")
    fo_b = _fo_at(client, shop, order_id, "WH-B")
    assert (fo_a["status"], fo_a["kind"], fo_a["carrier"]) == ("open", "ship", "acme")
    queue = _get(client, shop, "/v1/fulfillment-orders?location=WH-A&status=open")
    assert [fo["id"] for fo in queue["items"]] == [fo_a["id"]]

    # The download link redirects to the file.
    [download] = _get(client, shop, f"/v1/orders/{order_id}/downloads")["items"]
    followed = client.get(download["url"].removeprefix(settings.public_url), follow_redirects=False)
    assert (followed.status_code, followed.headers["location"]) == (
        307,
        "https://files.example.com/ebook.pdf",
    )

    # WH-A: wave, pick list in bin order, a wrong scan refused, pack by barcode, ship.
    wave = _post(client, shop, "/v1/locations/WH-A/pick-waves", {"max_orders": 10}, 201)
    assert [(e["bin"], e["sku"], e["quantity"]) for e in wave["pick_list"]] == [("A-02-10", "X", 2)]
    pdf = client.get(f"/v1/pick-waves/{wave['id']}/pick-list", headers=shop.headers)
    assert "A-02-10" in _pdf_text(pdf.content)
    assert "X" in _pdf_text(pdf.content)
    _post(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo_a['id']}")["status"] == "in_progress"
    wrong = client.post(
        f"/v1/fulfillment-orders/{fo_a['id']}/packages",
        headers=shop.headers,
        json={"scans": ["4006381333931", "Y"]},
    )
    problem = assert_problem(wrong, 422)
    assert problem["errors"][0]["pointer"] == "#/scans/1"
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo_a['id']}/packages")["items"] == []
    package = _post(
        client,
        shop,
        f"/v1/fulfillment-orders/{fo_a['id']}/packages",
        {"scans": ["4006381333931", "04006381333931"]},
        201,
    )
    assert (package["box"], package["weight_grams"]) == ("S", 1600)
    slip = client.get(f"/v1/fulfillment-orders/{fo_a['id']}/packing-slip", headers=shop.headers)
    slip_text = _pdf_text(slip.content)
    assert all(part in slip_text for part in ("X", "Erika Mustermann", "51147"))
    shipment = _post(client, shop, f"/v1/fulfillment-orders/{fo_a['id']}/shipments", None, 201)
    assert is_valid_tracking_number(shipment["tracking_number"])
    assert (shipment["carrier"], shipment["service"], shipment["status"]) == (
        "acme",
        "ground",
        "label_created",
    )
    public = client.get(
        shipment["tracking_url"].removeprefix(settings.public_url),
        headers={"Accept": "application/json"},
    )
    assert (public.status_code, public.json()["status"]) == (200, "label_created")
    assert "Erika" not in public.text  # the public page shows the parcel, not the customer
    label = client.get(f"/v1/shipments/{shipment['id']}/label", headers=shop.headers)
    label_text = _pdf_text(label.content)
    assert shipment["tracking_number"] in label_text
    assert "Erika Mustermann" in label_text
    assert "51147" in label_text
    # Stock left WH-A: on hand and reserved both down by 2, one shipment movement.
    assert _stock(client, shop, "X", "WH-A") == (3, 0)
    ledger = _get(client, shop, "/v1/inventory/X/movements?location=WH-A")["items"]
    assert [(m["kind"], m["quantity"], m["on_hand_after"]) for m in ledger][-1] == (
        "shipment",
        -2,
        3,
    )
    order = _order(client, shop, order_id)
    # Part shipped, the e-book already delivered.
    assert order["fulfillment_status"] == "partially_delivered"
    assert _quantities(order)["X"]["shipped"] == 2
    assert order["payment_status"] == "partially_paid"
    # X x2 (40.00) and the shipping (4.95) were captured with the first shipment.
    assert _captured(order) == Decimal("53.95")

    # WH-B ships the rest: the whole total is captured, exactly.
    _package, second = _wave_pick_pack_ship(client, shop, "WH-B", fo_b["id"], ["Y"])
    assert _stock(client, shop, "Y", "WH-B") == (4, 0)
    order = _order(client, shop, order_id)
    assert (order["fulfillment_status"], order["payment_status"]) == ("partially_delivered", "paid")
    assert all(q["shipped"] == q["ordered"] for q in _quantities(order).values())
    assert _captured(order) == total

    # Carrier tracking: a bad signature changes nothing.
    event = {
        "id": "evt-1",
        "tracking_number": shipment["tracking_number"],
        "status": "in_transit",
        "occurred_at": "2026-11-28T09:00:00Z",
        "location": "Koeln hub",
    }
    forged = _carrier_post(client, settings, [event], secret="not-the-secret-at-all")
    assert_problem(forged, 401)
    assert _get(client, shop, f"/v1/shipments/{shipment['id']}")["events"] == []
    # Delivered first, then a late "in transit" and a repeat: still delivered.
    delivered = {
        **event,
        "id": "evt-3",
        "status": "delivered",
        "occurred_at": "2026-11-29T14:00:00Z",
    }
    assert _carrier_post(client, settings, [delivered]).json()["accepted"] == 1
    late = _carrier_post(client, settings, [event, delivered]).json()
    assert (late["accepted"], late["duplicates"]) == (1, 1)
    tracked = _get(client, shop, f"/v1/shipments/{shipment['id']}")
    assert tracked["status"] == "delivered"
    as_json = {"Accept": "application/json"}
    tracked_publicly = client.get(f"/track/{shipment['tracking_number']}", headers=as_json)
    assert tracked_publicly.json()["status"] == "delivered"
    assert client.get("/track/ZZ000000000OM", headers=as_json).status_code == 404
    assert len(tracked["events"]) == 2
    order = _order(client, shop, order_id)
    assert order["fulfillment_status"] == "partially_delivered"
    assert _quantities(order)["X"]["delivered"] == 2
    last = {
        **event,
        "id": "evt-9",
        "tracking_number": second["tracking_number"],
        "status": "delivered",
    }
    assert _carrier_post(client, settings, [last]).status_code == 200
    order = _order(client, shop, order_id)
    assert (order["status"], order["fulfillment_status"]) == ("closed", "delivered")
    types = [e["type"] for e in order["timeline"]]
    for step in (
        "order.released",
        "fulfillment_order.created",
        "digital.delivered",
        "fulfillment_order.picked",
        "fulfillment_order.packed",
        "shipment.created",
        "shipment.delivered",
    ):
        assert step in types
    shipped_event = next(e for e in order["timeline"] if e["type"] == "shipment.created")
    assert shipped_event["data"]["location"] in {"WH-A", "WH-B"}
    assert shipped_event["actor"].startswith("api_key:")

    # A store pickup: routed to the store, ready with a one-time code, collected.
    pickup = _post(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "EUR",
            "lines": [{"sku": "Z", "quantity": 1}],
            "customer": {"email": "erika@example.com"},
            "pickup_location": "STORE-1",
            "payment": CARD,
        },
        201,
    )
    assert _stock(client, shop, "Z", "STORE-1") == (2, 1)
    fo_store = _fo_at(client, shop, pickup["id"], "STORE-1")
    assert fo_store["kind"] == "pickup"
    store_wave = _post(client, shop, "/v1/locations/STORE-1/pick-waves", {}, 201)
    ready = _post(client, shop, f"/v1/pick-waves/{store_wave['id']}/confirm")
    code = ready["pickup_codes"][fo_store["id"]]
    assert (
        _get(client, shop, f"/v1/fulfillment-orders/{fo_store['id']}")["status"]
        == "ready_for_pickup"
    )
    wrong_code = "000000" if code != "000000" else "111111"
    refused = client.post(
        f"/v1/fulfillment-orders/{fo_store['id']}/pickup",
        headers=shop.headers,
        json={"code": wrong_code},
    )
    assert_problem(refused, 422)
    collected = _post(
        client, shop, f"/v1/fulfillment-orders/{fo_store['id']}/pickup", {"code": code}
    )
    assert collected["status"] == "closed"
    again = client.post(
        f"/v1/fulfillment-orders/{fo_store['id']}/pickup", headers=shop.headers, json={"code": code}
    )
    assert_problem(again, 409)
    assert _stock(client, shop, "Z", "STORE-1") == (1, 0)
    picked_up = _order(client, shop, pickup["id"])
    assert (picked_up["status"], picked_up["fulfillment_status"], picked_up["payment_status"]) == (
        "closed",
        "delivered",
        "paid",
    )

    assert find_invariant_violations(uow_factory=api_uow) == []


def test_the_carrier_simulator_moves_shipments_to_delivered_through_the_webhook_path(
    client: TestClient,
    shop: ApiTenant,
    api_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = _post(
        client,
        shop,
        "/v1/orders",
        {
            "currency": "EUR",
            "lines": [{"sku": "X", "quantity": 1}],
            "customer": {"email": "sim@example.com"},
            "shipping_address": COLOGNE,
            "payment": CARD,
        },
        201,
    )
    fo = _fo_at(client, shop, order["id"], "WH-A")
    _package, shipment = _wave_pick_pack_ship(client, shop, "WH-A", fo["id"], ["X"])
    monkeypatch.setenv("OMS_DATABASE_URL", api_engine.url.render_as_string(hide_password=False))
    runner = CliRunner()

    bad = runner.invoke(app, ["carriers", "simulate", "--at", "tomorrow"])
    assert bad.exit_code != 0
    assert "ISO 8601" in bad.output
    far = "2099-01-01T00:00:00+00:00"  # after any shipment this test can make, whatever the day
    first = runner.invoke(app, ["carriers", "simulate", "--at", far])
    again = runner.invoke(app, ["carriers", "simulate", "--at", far])

    assert first.exit_code == 0, first.output
    assert "already known" in again.output
    tracked = _get(client, shop, f"/v1/shipments/{shipment['id']}")
    assert tracked["status"] in {"delivered", "returned_to_sender"}
    assert [e["occurred_at"] for e in tracked["events"]] == sorted(
        e["occurred_at"] for e in tracked["events"]
    )
    if tracked["status"] == "delivered":
        delivered = _order(client, shop, order["id"])
        assert (delivered["status"], delivered["fulfillment_status"]) == ("closed", "delivered")
