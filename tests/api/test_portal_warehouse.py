"""The portal's warehouse screens over HTTP, on SQLite and PostgreSQL: operator staff and
operator admins use them, merchant users get the 403 page; a form without the CSRF token
is refused; a location's open work, a wave and its pick list; the pack station refuses a
wrong or surplus scan with the reason, packs the accepted scans and ships, every step in
the order's timeline under the user; the label and packing slip are PDFs; a pickup is
handed over with the customer's code, a wrong code shows the refusal.

Rate cards are deployment-wide, so this module runs on a database of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.config import Settings
from oms.domain.users import Role, User
from tests.api.fulfilment_support import (
    COLOGNE,
    add_sites,
    get_json,
    own_engine,
    post_json,
    rated_client,
)
from tests.api.order_support import events_of
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    create_product,
    new_tenant,
    set_on_hand,
)
from tests.databases import ENGINES

CARD = {"gateway": "test", "token": "tok_approve"}
SITES = {
    "WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln", "postal_code": "51105"}),
    "STORE-1": ("store", 50.94, 6.95, {"city": "Koeln", "postal_code": "50667"}),
}
BOXES = [
    {"code": "S", "length_mm": 200, "width_mm": 150, "height_mm": 100, "max_weight_grams": 5000},
    {"code": "L", "length_mm": 600, "width_mm": 400, "height_mm": 400, "max_weight_grams": 30000},
]
BEANS_BARCODE = "4006381333931"


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "portal_warehouse")


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
def shop(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    shop = new_tenant(api_uow, "Warehouse Shop")
    add_sites(client, shop, SITES, BOXES)
    create_product(
        client, shop, "BEANS", name="Espresso beans", weight_grams=1000, barcode=BEANS_BARCODE
    )
    create_product(client, shop, "CUP", name="Espresso cup", weight_grams=200)
    set_on_hand(client, shop, "BEANS", "WH-A", 10)
    set_on_hand(client, shop, "CUP", "STORE-1", 5)
    return shop


@pytest.fixture
def staff(api_uow: SqlUnitOfWorkFactory) -> User:
    return new_user(api_uow, Role.OPERATOR_STAFF)


def _order(client: TestClient, shop: ApiTenant, **fields: Any) -> dict[str, Any]:
    body = {
        "currency": "EUR",
        "lines": [{"sku": "BEANS", "quantity": 2}],
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "shipping_address": COLOGNE,
        "payment": CARD,
        **fields,
    }
    found: dict[str, Any] = post_json(client, shop, "/v1/orders", body, 201)
    return found


def _fo(client: TestClient, shop: ApiTenant, order: dict[str, Any]) -> dict[str, Any]:
    [fo] = get_json(client, shop, f"/v1/orders/{order['id']}/fulfillment-orders")["items"]
    found: dict[str, Any] = fo
    return found


def _post(client: TestClient, page: str, action: str, data: Any) -> Any:
    """Send the form at ``action`` with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    if isinstance(data, dict):
        data = list(data.items())
    return client.post(
        action,
        content=urlencode([("csrf_token", token), *data]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _picked(client: TestClient, shop: ApiTenant, order: dict[str, Any]) -> dict[str, Any]:
    """The order's fulfilment order, picked through the API (a wave confirmed)."""
    wave = post_json(client, shop, "/v1/locations/WH-A/pick-waves", {"max_orders": 10}, 201)
    post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    return _fo(client, shop, order)


@pytest.mark.parametrize("role", [Role.OPERATOR_STAFF, Role.OPERATOR_ADMIN])
def test_operator_users_open_the_warehouse_screens(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory, role: Role
) -> None:
    order = _order(client, shop)
    assert sign_in(client, new_user(api_uow, role)) == 303

    picker = client.get("/app/warehouse")
    queue = client.get(f"/app/warehouse/{shop.id}/locations/WH-A")

    assert picker.status_code == 200
    assert f"/app/warehouse/{shop.id}/locations/WH-A" in picker.text
    assert "Content-Security-Policy" in picker.headers
    assert queue.status_code == 200
    assert f"#{order['number']}" in queue.text
    assert "Waiting for a pick wave" in queue.text


@pytest.mark.parametrize("role", [Role.MERCHANT_ADMIN, Role.MERCHANT_VIEWER])
def test_merchant_users_are_refused_the_warehouse_screens(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory, role: Role
) -> None:
    fo = _picked(client, shop, _order(client, shop))
    assert sign_in(client, new_user(api_uow, role, shop.id)) == 303

    for path in (
        "/app/warehouse",
        f"/app/warehouse/{shop.id}/locations/WH-A",
        f"/app/warehouse/{shop.id}/fulfilment/{fo['id']}",
        f"/app/warehouse/{shop.id}/fulfilment/{fo['id']}/packing-slip.pdf",
    ):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "for the operator&#39;s staff" in answer.text
    token = csrf_of(client.get("/app/orders").text)
    scan = client.post(
        f"/app/warehouse/{shop.id}/fulfilment/{fo['id']}/scan",
        data={"csrf_token": token, "scan": "BEANS"},
    )
    assert scan.status_code == 403
    assert ">Warehouse<" not in client.get("/app/orders").text


def test_a_form_without_the_csrf_token_is_refused(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    _order(client, shop)
    assert sign_in(client, staff) == 303

    answer = client.post(
        f"/app/warehouse/{shop.id}/locations/WH-A/waves",
        data={"max_orders": "5"},
        follow_redirects=False,
    )

    assert answer.status_code == 403
    assert "Form expired" in answer.text
    assert get_json(client, shop, "/v1/pick-waves")["items"] == []


def test_an_unknown_tenant_or_fulfilment_order_is_the_404_page(
    client: TestClient, shop: ApiTenant, staff: User, api_uow: SqlUnitOfWorkFactory
) -> None:
    other = new_tenant(api_uow, "Other Shop")
    fo = _picked(client, shop, _order(client, shop))
    assert sign_in(client, staff) == 303

    assert client.get(f"/app/warehouse/{other.id}/fulfilment/{fo['id']}").status_code == 404
    assert client.get(f"/app/warehouse/{shop.id}/locations/NOPE").status_code == 404
    assert client.get("/app/warehouse/not-a-uuid/locations/WH-A").status_code == 404


def test_a_wave_is_created_its_pick_list_printed_and_confirmed(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    order = _order(client, shop)
    assert sign_in(client, staff) == 303
    queue = f"/app/warehouse/{shop.id}/locations/WH-A"

    made = _post(client, queue, f"{queue}/waves", {"max_orders": "10"})
    assert made.status_code == 303
    wave_page = client.get(made.headers["location"])
    pdf = client.get(made.headers["location"] + "/pick-list.pdf")
    confirmed = _post(client, made.headers["location"], made.headers["location"] + "/confirm", {})

    assert wave_page.status_code == 200
    assert "Espresso beans" in wave_page.text
    assert f"#{order['number']}" in wave_page.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert confirmed.status_code == 303
    assert _fo(client, shop, order)["status"] == "in_progress"
    events = {e["type"]: e for e in events_of(client, shop, order["id"])}
    assert events["fulfillment_order.picked"]["actor"] == f"user:{staff.id}"


def test_an_empty_wave_is_refused_on_the_queue_page(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    assert sign_in(client, staff) == 303
    queue = f"/app/warehouse/{shop.id}/locations/WH-A"

    answer = _post(client, queue, f"{queue}/waves", {"max_orders": "10"})

    assert answer.status_code == 409
    assert 'role="alert"' in answer.text


def _scan(client: TestClient, here: str, code: str, scans: list[str]) -> Any:
    data = [("scans", s) for s in scans] + [("scan", code)]
    return _post(client, here, f"{here}/scan", data)


def test_the_pack_station_checks_each_scan_packs_and_ships(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    order = _order(client, shop)
    fo = _picked(client, shop, order)
    assert sign_in(client, staff) == 303
    here = f"/app/warehouse/{shop.id}/fulfilment/{fo['id']}"

    station = client.get(here)
    assert station.status_code == 200
    assert 'id="scan"' in station.text
    assert "autofocus" in station.text

    wrong = _scan(client, here, "SOCKS", [])
    assert wrong.status_code == 422
    assert "Refused: SOCKS" in wrong.text
    assert "is not an item of this fulfilment order" in wrong.text
    assert 'data-scan="error"' in wrong.text

    first = _scan(client, here, BEANS_BARCODE, [])
    assert first.status_code == 200
    assert "OK: BEANS" in first.text
    assert "line 1: 1 more to scan" in first.text
    assert re.search(r'name="scans" value="4006381333931"', first.text)

    second = _scan(client, here, "BEANS", [BEANS_BARCODE])
    assert "line complete" in second.text

    surplus = _scan(client, here, "BEANS", [BEANS_BARCODE, "BEANS"])
    assert surplus.status_code == 422
    assert "already complete" in surplus.text

    packed = _post(
        client, here, f"{here}/pack", [("scans", BEANS_BARCODE), ("scans", "BEANS"), ("box", "S")]
    )
    assert packed.status_code == 303
    assert _fo(client, shop, order)["status"] == "packed"

    shipped = _post(client, here, f"{here}/ship", {"key": "ship-once"})
    assert shipped.status_code == 303
    assert _fo(client, shop, order)["status"] == "shipped"
    again = _post(client, here, f"{here}/ship", {"key": "ship-once"})
    assert again.status_code == 303  # the same key: the first shipment, no second label

    final = client.get(here)
    [label_url] = re.findall(r'href="([^"]+/label\.pdf)"', final.text)
    label = client.get(label_url)
    slip = client.get(f"{here}/packing-slip.pdf")
    assert label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")
    assert slip.content.startswith(b"%PDF")

    by_type = {e["type"]: e for e in events_of(client, shop, order["id"])}
    assert by_type["fulfillment_order.packed"]["actor"] == f"user:{staff.id}"
    assert by_type["shipment.created"]["actor"] == f"user:{staff.id}"
    refused = [
        e for e in events_of(client, shop, order["id"]) if e["type"].endswith("scan_refused")
    ]
    assert [(e["data"]["code"], e["actor"]) for e in refused] == [
        ("SOCKS", f"user:{staff.id}"),
        ("BEANS", f"user:{staff.id}"),
    ]
    assert "more than the 2 still to pack" in refused[1]["data"]["reason"]
    timeline = client.get(f"/app/orders/{shop.id}/{order['id']}").text
    assert f"fulfillment order.scan refused</strong> by {staff.email}" in timeline
    assert len(get_json(client, shop, f"/v1/orders/{order['id']}/shipments")["items"]) == 1


def test_a_pack_with_a_wrong_scan_is_refused_with_nothing_written(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    order = _order(client, shop)
    fo = _picked(client, shop, order)
    assert sign_in(client, staff) == 303
    here = f"/app/warehouse/{shop.id}/fulfilment/{fo['id']}"

    answer = _post(client, here, f"{here}/pack", [("scans", "SOCKS")])

    assert answer.status_code == 422
    assert "The scans do not match" in answer.text
    assert _fo(client, shop, order)["status"] == "in_progress"


def test_a_pickup_is_handed_over_with_the_customers_code(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    order = _order(
        client,
        shop,
        lines=[{"sku": "CUP", "quantity": 1}],
        pickup_location="STORE-1",
        shipping_address=None,
    )
    wave = post_json(client, shop, "/v1/locations/STORE-1/pick-waves", {}, 201)
    [code] = post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")[
        "pickup_codes"
    ].values()
    fo = _fo(client, shop, order)
    assert sign_in(client, staff) == 303
    queue = f"/app/warehouse/{shop.id}/locations/STORE-1"
    assert f"#{order['number']}" in client.get(queue).text

    wrong = _post(client, queue, f"{queue}/pickups/{fo['id']}", {"code": "000000"})
    right = _post(client, queue, f"{queue}/pickups/{fo['id']}", {"code": code})

    assert wrong.status_code == 422
    assert 'role="alert"' in wrong.text
    assert right.status_code == 303
    assert "handed+over" in right.headers["location"]
    assert _fo(client, shop, order)["status"] in ("closed", "shipped")
    events = {e["type"]: e for e in events_of(client, shop, order["id"])}
    assert events["fulfillment_order.picked_up"]["actor"] == f"user:{staff.id}"


def test_repeated_wrong_pickup_codes_lock_the_pickup(
    client: TestClient, shop: ApiTenant, staff: User
) -> None:
    order = _order(
        client,
        shop,
        lines=[{"sku": "CUP", "quantity": 1}],
        pickup_location="STORE-1",
        shipping_address=None,
    )
    wave = post_json(client, shop, "/v1/locations/STORE-1/pick-waves", {}, 201)
    post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    fo = _fo(client, shop, order)
    assert sign_in(client, staff) == 303
    queue = f"/app/warehouse/{shop.id}/locations/STORE-1"

    statuses = [
        _post(client, queue, f"{queue}/pickups/{fo['id']}", {"code": "000000"}).status_code
        for _ in range(6)
    ]

    assert statuses[0] == 422
    assert statuses[-1] == 423


def test_a_shipped_order_is_found_by_its_tracking_number(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = _order(client, shop)
    fo = _picked(client, shop, order)
    post_json(
        client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages", {"scans": ["BEANS"] * 2}, 201
    )
    shipment = post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201)
    sign_in(client, new_user(api_uow, Role.MERCHANT_VIEWER, shop.id))

    found = client.get("/app/orders", params={"q": shipment["tracking_number"].lower()}).text
    missed = client.get("/app/orders", params={"q": shipment["tracking_number"] + "9"}).text

    assert f">#{order['number']}<" in found
    assert f">#{order['number']}<" not in missed
