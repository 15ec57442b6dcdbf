"""Fulfilment over HTTP at its edges: refused scans, carrier webhooks that are repeated, late,
forged or malformed, and download links that expired or never existed.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Engine

from oms.adapters.carriers.signature import sign
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.downloads import DownloadSigner
from oms.config import Settings
from oms.services.checks import find_invariant_violations
from oms.services.downloads import DownloadGrant
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

SITES = {
    "WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln"}),
    "WH-B": ("warehouse", 50.73, 7.10, {"city": "Koeln"}),
    "STORE-1": ("store", 50.94, 6.95, {"city": "Koeln"}),
}
BOXES = [
    {"code": "S", "length_mm": 200, "width_mm": 150, "height_mm": 100, "max_weight_grams": 5000},
]
X_GTIN = "4006381333931"
FILE_URL = "https://files.example.com/guide.pdf"


@pytest.fixture(scope="module", params=ENGINES)
def edges_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "fulfilment_edges")


@pytest.fixture(scope="module")
def edges_uow(edges_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(edges_engine)


@pytest.fixture(scope="module")
def settings(edges_engine: Engine) -> Settings:
    return api_settings_for(edges_engine.url.render_as_string(hide_password=False))


@pytest.fixture(scope="module")
def client(
    edges_engine: Engine, settings: Settings, edges_uow: SqlUnitOfWorkFactory
) -> Iterator[TestClient]:
    yield from rated_client(edges_engine, settings, edges_uow)


@pytest.fixture
def shop(edges_uow: SqlUnitOfWorkFactory, client: TestClient) -> ApiTenant:
    """Two warehouses and a store; X (with a barcode) and Y at WH-A, Z at the store, and a
    downloadable guide."""
    tenant = new_tenant(edges_uow)
    add_sites(client, tenant, SITES, BOXES)
    create_product(client, tenant, "X", price="20.00", weight_grams=800, barcode=X_GTIN)
    create_product(client, tenant, "Y", price="15.00", weight_grams=400)
    create_product(client, tenant, "Z", price="30.00", weight_grams=300)
    create_product(client, tenant, "GUIDE", price="9.00", kind="digital", download_url=FILE_URL)
    set_on_hand(client, tenant, "X", "WH-A", 5)
    set_on_hand(client, tenant, "Y", "WH-A", 5)
    set_on_hand(client, tenant, "Z", "STORE-1", 2)
    return tenant


# --- small helpers ---------------------------------------------------------------------------


_get, _post = get_json, post_json


def _place(client: TestClient, shop: ApiTenant, *lines: tuple[str, int], **fields: Any) -> Any:
    body = {
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "customer": {"email": "erika@example.com", "name": "Erika Mustermann"},
        "payment": {"gateway": "test", "token": "tok_approve"},
        **fields,
    }
    if "pickup_location" not in fields:
        body["shipping_address"] = COLOGNE
    return _post(client, shop, "/v1/orders", body, 201)


def _only_fo(client: TestClient, shop: ApiTenant, order_id: str) -> dict[str, Any]:
    (fo,) = _get(client, shop, f"/v1/orders/{order_id}/fulfillment-orders")["items"]
    assert isinstance(fo, dict)
    return fo


def _picked(client: TestClient, shop: ApiTenant, code: str) -> dict[str, Any]:
    wave = _post(client, shop, f"/v1/locations/{code}/pick-waves", {}, 201)
    confirmed: dict[str, Any] = _post(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    return confirmed


def _stock(client: TestClient, shop: ApiTenant, sku: str) -> dict[str, tuple[int, int]]:
    stock = _get(client, shop, f"/v1/inventory/{sku}")
    return {row["location"]: (row["on_hand"], row["reserved"]) for row in stock["locations"]}


def _ledger(client: TestClient, shop: ApiTenant, sku: str) -> list[tuple[str, str, int]]:
    items = _get(client, shop, f"/v1/inventory/{sku}/movements?limit=50")["items"]
    return [(m["location"], m["kind"], m["quantity"]) for m in items]


def _shipped(client: TestClient, shop: ApiTenant) -> tuple[str, dict[str, Any]]:
    """An order of one X, picked, packed and shipped from WH-A: its id and the shipment."""
    order = _place(client, shop, ("X", 1))
    fo = _only_fo(client, shop, order["id"])
    _picked(client, shop, "WH-A")
    _post(client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages", {"scans": ["X"]}, 201)
    shipment = _post(client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201)
    return order["id"], shipment


def _carrier_post(
    client: TestClient,
    settings: Settings,
    events: list[dict[str, Any]],
    *,
    signature: str | None = "sign",
) -> Any:
    body = json.dumps({"events": events}).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers["X-OMS-Signature"] = sign(body, settings.carrier_webhook_secret)
    elif signature is not None:
        headers["X-OMS-Signature"] = signature
    return client.post("/v1/carriers/acme/events", content=body, headers=headers)


def _event(tracking_number: str, status: str, occurred_at: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{uuid4()}",
        "tracking_number": tracking_number,
        "status": status,
        "occurred_at": occurred_at,
        **fields,
    }


# --- 4. packing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scans", "pointers"),
    [
        (["Y"], ["#/scans/0"]),  # an item of the shop, not of this order
        (["X", "X", X_GTIN], ["#/scans/2"]),  # one more X than the order has
        (["X", "Y", "X", "0" + X_GTIN], ["#/scans/1", "#/scans/3"]),
        (["4006381333932"], ["#/scans/0"]),  # X's barcode with a wrong check digit
    ],
    ids=["wrong-item", "surplus", "wrong-and-surplus", "bad-check-digit"],
)
def test_wrong_item_and_surplus_scans_are_refused_with_pointers_and_nothing_is_packed(
    client: TestClient, shop: ApiTenant, scans: list[str], pointers: list[str]
) -> None:
    order = _place(client, shop, ("X", 2))
    fo = _only_fo(client, shop, order["id"])
    _picked(client, shop, "WH-A")

    refused = client.post(
        f"/v1/fulfillment-orders/{fo['id']}/packages", headers=shop.headers, json={"scans": scans}
    )

    problem = assert_problem(refused, 422)
    assert [e["pointer"] for e in problem["errors"]] == pointers
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages")["items"] == []
    after = _get(client, shop, f"/v1/fulfillment-orders/{fo['id']}")
    assert (after["status"], after["lines"][0]["picked"], after["lines"][0]["packed"]) == (
        "in_progress",
        2,
        0,
    )
    timeline = _get(client, shop, f"/v1/orders/{order['id']}")["timeline"]
    assert "fulfillment_order.packed" not in [e["type"] for e in timeline]
    # The right scans still pack: nothing was half done.
    _post(
        client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages", {"scans": ["X", X_GTIN]}, 201
    )


def test_a_package_that_has_not_shipped_can_be_unpacked_and_its_units_packed_again(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _place(client, shop, ("X", 2))
    fo = _only_fo(client, shop, order["id"])
    _picked(client, shop, "WH-A")
    packages = f"/v1/fulfillment-orders/{fo['id']}/packages"
    first = _post(client, shop, packages, {"scans": ["X"]}, 201)

    unpacked = client.delete(f"{packages}/{first['id']}", headers=shop.headers)

    assert unpacked.status_code == 200, unpacked.text
    line = unpacked.json()["lines"][0]
    assert (unpacked.json()["status"], line["picked"], line["packed"]) == ("in_progress", 2, 0)
    assert _get(client, shop, packages)["items"] == []
    timeline = _get(client, shop, f"/v1/orders/{order['id']}")["timeline"]
    assert timeline[-1]["type"] == "fulfillment_order.unpacked"
    assert timeline[-1]["data"]["items"] == {"X": 1}
    # Both units go into one box now; gone is gone, and a shipped box stays whole.
    again = _post(client, shop, packages, {"scans": ["X", X_GTIN]}, 201)
    assert_problem(client.delete(f"{packages}/{first['id']}", headers=shop.headers), 404)
    _post(client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201)
    refused = client.delete(f"{packages}/{again['id']}", headers=shop.headers)
    assert_problem(refused, 409)
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo['id']}")["status"] == "shipped"


def test_packing_a_store_pickup_is_refused(client: TestClient, shop: ApiTenant) -> None:
    order = _place(client, shop, ("Z", 1), pickup_location="STORE-1")
    fo = _only_fo(client, shop, order["id"])
    _picked(client, shop, "STORE-1")

    refused = client.post(
        f"/v1/fulfillment-orders/{fo['id']}/packages", headers=shop.headers, json={"scans": ["Z"]}
    )

    assert_problem(refused, 409)
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages")["items"] == []
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo['id']}")["status"] == (
        "ready_for_pickup"
    )
    assert _stock(client, shop, "Z") == {"STORE-1": (2, 1)}


def test_a_pickup_guessed_at_is_locked_with_423_and_retry_after(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _place(client, shop, ("Z", 1), pickup_location="STORE-1")
    fo = _only_fo(client, shop, order["id"])
    code = _picked(client, shop, "STORE-1")["pickup_codes"][fo["id"]]
    wrong = "000000" if code != "000000" else "111111"
    url = f"/v1/fulfillment-orders/{fo['id']}/pickup"

    for left in (4, 3, 2, 1):
        refused = client.post(url, headers=shop.headers, json={"code": wrong})
        assert assert_problem(refused, 422, "invalid_request")["attempts_left"] == left
    locked = client.post(url, headers=shop.headers, json={"code": wrong})
    body = assert_problem(locked, 423, "locked_out")
    assert int(locked.headers["Retry-After"]) == body["retry_after"] > 0
    assert datetime.fromisoformat(body["locked_until"]).tzinfo is not None
    # The right code is not even looked at while the lock lasts.
    assert_problem(client.post(url, headers=shop.headers, json={"code": code}), 423)
    assert _get(client, shop, f"/v1/fulfillment-orders/{fo['id']}")["status"] == (
        "ready_for_pickup"
    )
    timeline = _get(client, shop, f"/v1/orders/{order['id']}")["timeline"]
    assert "fulfillment_order.pickup_locked" in [event["type"] for event in timeline]


# --- 2 and 3 over HTTP: what a refusal answers ---------------------------------------------


def test_rejecting_a_shipped_fulfilment_order_answers_409(
    client: TestClient, shop: ApiTenant, edges_uow: SqlUnitOfWorkFactory
) -> None:
    order_id, _shipment = _shipped(client, shop)
    fo = _only_fo(client, shop, order_id)
    assert fo["status"] == "shipped"

    refused = client.post(
        f"/v1/fulfillment-orders/{fo['id']}/reject",
        headers=shop.headers,
        json={"reason": "too late"},
    )

    assert_problem(refused, 409)
    assert _only_fo(client, shop, order_id)["status"] == "shipped"
    assert _stock(client, shop, "X")["WH-A"] == (4, 0)
    assert _ledger(client, shop, "X") == [("WH-A", "count", 5), ("WH-A", "shipment", -1)]
    assert find_invariant_violations(uow_factory=edges_uow) == []


def test_moving_to_a_location_without_the_stock_answers_409_and_changes_nothing(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _place(client, shop, ("X", 2))
    fo = _only_fo(client, shop, order["id"])
    before = _get(client, shop, f"/v1/orders/{order['id']}")

    refused = client.post(
        f"/v1/fulfillment-orders/{fo['id']}/move", headers=shop.headers, json={"location": "WH-B"}
    )

    assert_problem(refused, 409)
    assert _stock(client, shop, "X") == {"WH-A": (5, 2)}
    assert _only_fo(client, shop, order["id"]) == fo
    after = _get(client, shop, f"/v1/orders/{order['id']}")
    assert (after["allocations"], after["lines"], after["timeline"]) == (
        before["allocations"],
        before["lines"],
        before["timeline"],
    )


# --- 6. carrier events ----------------------------------------------------------------------


def test_a_repeated_carrier_event_is_counted_once(
    client: TestClient, shop: ApiTenant, settings: Settings
) -> None:
    _order_id, shipment = _shipped(client, shop)
    number = shipment["tracking_number"]
    scan = _event(number, "in_transit", "2026-11-28T09:00:00Z", location="Koeln hub")
    out = _event(number, "out_for_delivery", "2026-11-28T11:00:00+01:00")

    first = _carrier_post(client, settings, [scan])
    again = _carrier_post(client, settings, [scan, out, out])

    assert first.status_code == again.status_code == 200
    assert (first.json()["accepted"], first.json()["duplicates"]) == (1, 0)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (1, 2)
    tracked = _get(client, shop, f"/v1/shipments/{shipment['id']}")
    assert sorted(e["event_id"] for e in tracked["events"]) == sorted([scan["id"], out["id"]])
    assert tracked["status"] == "out_for_delivery"


def test_a_late_in_transit_event_never_undoes_delivered(
    client: TestClient, shop: ApiTenant, settings: Settings
) -> None:
    order_id, shipment = _shipped(client, shop)
    number = shipment["tracking_number"]
    delivered = _event(number, "delivered", "2026-11-29T14:00:00Z")
    older = _event(number, "in_transit", "2026-11-28T09:00:00Z")
    # A scanner with a wrong clock: stamped after the delivery.
    skewed = _event(number, "in_transit", "2026-11-30T09:00:00Z")

    assert _carrier_post(client, settings, [delivered]).status_code == 200
    late = _carrier_post(client, settings, [older, skewed])

    assert (late.status_code, late.json()["accepted"]) == (200, 2)
    tracked = _get(client, shop, f"/v1/shipments/{shipment['id']}")
    assert (tracked["status"], len(tracked["events"])) == ("delivered", 3)
    order = _get(client, shop, f"/v1/orders/{order_id}")
    assert (order["status"], order["fulfillment_status"]) == ("closed", "delivered")
    assert order["lines"][0]["quantities"]["delivered"] == 1
    assert _only_fo(client, shop, order_id)["status"] == "closed"
    types = [e["type"] for e in order["timeline"]]
    assert types.count("shipment.delivered") == 1
    assert "shipment.in_transit" not in types


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "sha256=" + "0" * 64,
        "sha256=not-hex",
        "sign-other-body",
        "sign-other-secret",
    ],
    ids=["missing", "wrong", "malformed", "for-another-body", "with-another-secret"],
)
def test_carrier_events_with_a_bad_or_missing_signature_answer_401_and_store_nothing(
    client: TestClient, shop: ApiTenant, settings: Settings, signature: str | None
) -> None:
    _order_id, shipment = _shipped(client, shop)
    event = _event(shipment["tracking_number"], "delivered", "2026-11-29T14:00:00Z")
    header = signature
    if signature == "sign-other-body":
        header = sign(json.dumps({"events": []}).encode(), settings.carrier_webhook_secret)
    elif signature == "sign-other-secret":
        body = json.dumps({"events": [event]}).encode()
        header = sign(body, "a-secret-the-carrier-does-not-share")

    refused = _carrier_post(client, settings, [event], signature=header)

    assert_problem(refused, 401)
    tracked = _get(client, shop, f"/v1/shipments/{shipment['id']}")
    assert (tracked["status"], tracked["events"]) == ("label_created", [])
    # The same event, signed, is new: the refused one left no trace.
    accepted = _carrier_post(client, settings, [event]).json()
    assert (accepted["accepted"], accepted["duplicates"]) == (1, 0)


def test_an_unknown_tracking_number_is_reported_not_refused(
    client: TestClient, shop: ApiTenant, settings: Settings
) -> None:
    _order_id, shipment = _shipped(client, shop)
    known = _event(shipment["tracking_number"], "in_transit", "2026-11-28T09:00:00Z")
    stranger = _event("ZZ123456786OM", "in_transit", "2026-11-28T09:00:00Z")

    answer = _carrier_post(client, settings, [stranger, known])

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "accepted": 1,
        "duplicates": 0,
        "unknown_tracking_numbers": ["ZZ123456786OM"],
    }
    assert _get(client, shop, f"/v1/shipments/{shipment['id']}")["status"] == "in_transit"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "2026-11-28T09:00:00"),  # no time zone: which 09:00?
        ("occurred_at", "yesterday"),
        ("status", "teleported"),
        ("status", "DELIVERED"),
    ],
    ids=["naive-timestamp", "not-a-timestamp", "unknown-status", "status-in-capitals"],
)
def test_a_carrier_event_with_a_naive_timestamp_or_a_bad_status_answers_422(
    client: TestClient, shop: ApiTenant, settings: Settings, field: str, value: str
) -> None:
    _order_id, shipment = _shipped(client, shop)
    good = _event(shipment["tracking_number"], "in_transit", "2026-11-28T09:00:00Z")
    bad = _event(shipment["tracking_number"], "delivered", "2026-11-29T14:00:00Z")
    bad[field] = value

    refused = _carrier_post(client, settings, [good, bad])

    problem = assert_problem(refused, 422)
    assert [e["pointer"] for e in problem["errors"]] == [f"#/events/1/{field}"]
    # The whole batch is refused: not even the good event was kept.
    tracked = _get(client, shop, f"/v1/shipments/{shipment['id']}")
    assert (tracked["status"], tracked["events"]) == ("label_created", [])


# --- 9. download links ------------------------------------------------------------------------


def _download_link(client: TestClient, shop: ApiTenant) -> tuple[str, dict[str, Any]]:
    order = _place(client, shop, ("GUIDE", 1))
    (link,) = _get(client, shop, f"/v1/orders/{order['id']}/downloads")["items"]
    return order["id"], link


def _token(url: str) -> str:
    return url.rsplit("/downloads/", 1)[1]


def test_a_valid_download_link_redirects_to_the_products_file(
    client: TestClient, shop: ApiTenant, settings: Settings
) -> None:
    order_id, link = _download_link(client, shop)

    followed = client.get(f"/downloads/{_token(link['url'])}", follow_redirects=False)

    assert (followed.status_code, followed.headers["location"]) == (307, FILE_URL)
    assert link["url"].startswith(settings.public_url)
    # Delivered as it was placed; valid for the tenant's download_link_days (30) from then.
    placed = datetime.fromisoformat(_get(client, shop, f"/v1/orders/{order_id}")["created_at"])
    lifetime = datetime.fromisoformat(link["expires_at"]) - placed
    assert timedelta(days=30) - timedelta(minutes=1) <= lifetime <= timedelta(days=30, minutes=1)


def test_an_expired_download_link_answers_410(
    client: TestClient, shop: ApiTenant, settings: Settings
) -> None:
    order_id, link = _download_link(client, shop)
    # The link the API gave, as it reads long after its expiry: same order line, and
    # signed with the deployment's key, but its time is up.
    signer = DownloadSigner(settings.secret_key, settings.public_url)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    expired = signer.link(DownloadGrant(shop.id, UUID(order_id), link["line_no"], long_ago))

    answer = client.get(f"/downloads/{_token(expired)}", follow_redirects=False)

    assert_problem(answer, 410)
    assert "location" not in answer.headers


@pytest.mark.parametrize("forgery", ["other-key", "stretched", "garbage", "truncated"])
def test_a_forged_download_link_answers_404(
    client: TestClient, shop: ApiTenant, settings: Settings, forgery: str
) -> None:
    order_id, link = _download_link(client, shop)
    token = _token(link["url"])
    grant = DownloadGrant(
        shop.id, UUID(order_id), link["line_no"], datetime(2999, 1, 1, tzinfo=UTC)
    )
    other = DownloadSigner("a-key-that-is-not-the-deployments", settings.public_url)
    forged = {
        "other-key": _token(other.link(grant)),
        # The payload of a ten-year grant under the genuine link's signature.
        "stretched": _token(other.link(grant)).split(".")[0] + "." + token.split(".")[1],
        "garbage": "not-a-token-at-all",
        "truncated": token[:-3],
    }[forgery]

    answer = client.get(f"/downloads/{forged}", follow_redirects=False)

    assert_problem(answer, 404)
    assert "location" not in answer.headers


def test_a_retried_shipment_with_its_idempotency_key_answers_200_with_the_same_label_once(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _place(client, shop, ("X", 1))
    fo = _only_fo(client, shop, order["id"])
    _picked(client, shop, "WH-A")
    _post(client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages", {"scans": ["X"]}, 201)
    path = f"/v1/fulfillment-orders/{fo['id']}/shipments"
    headers = {**shop.headers, "Idempotency-Key": f"ship-{fo['id']}"}

    first = client.post(path, headers=headers)
    again = client.post(path, headers=headers)
    other_body = client.post(path, headers=headers, json={"service": "express"})

    # A replayed create answers 200 with what the first call made, as a replayed order does.
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["tracking_number"] == first.json()["tracking_number"]
    assert_problem(other_body, 422)
    shipments = _get(client, shop, f"/v1/orders/{order['id']}/shipments")["items"]
    assert [s["id"] for s in shipments] == [first.json()["id"]]
    # This shop's only shipment left the shelf once.
    assert [entry for entry in _ledger(client, shop, "X") if entry[1] == "shipment"] == [
        ("WH-A", "shipment", -1)
    ]


def test_the_floor_lists_its_waves_newest_first_open_or_completed(
    client: TestClient, shop: ApiTenant
) -> None:
    first = _place(client, shop, ("X", 1))
    done = _picked(client, shop, "WH-A")
    second = _place(client, shop, ("X", 1))
    out = _post(client, shop, "/v1/locations/WH-A/pick-waves", {}, 201)

    every = _get(client, shop, "/v1/pick-waves?location=WH-A")["items"]
    still_out = _get(client, shop, "/v1/pick-waves?status=open")["items"]

    assert [(w["id"], w["status"], w["location"]) for w in every] == [
        (out["id"], "open", "WH-A"),
        (done["id"], "completed", "WH-A"),
    ]
    assert [w["id"] for w in still_out] == [out["id"]]
    assert _only_fo(client, shop, second["id"])["wave_id"] == out["id"]
    assert _only_fo(client, shop, first["id"])["wave_id"] == done["id"]
    assert_problem(client.get("/v1/pick-waves?location=NOPE", headers=shop.headers), 422)
    assert_problem(client.get("/v1/pick-waves?status=lost", headers=shop.headers), 422)
