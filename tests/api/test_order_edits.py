"""Editing an order over HTTP: ETag and If-Match, all-or-nothing changes before release."""

from __future__ import annotations

from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from tests.api.order_support import (
    SYSTEM_ACTOR,
    VALID_ADDRESS,
    Timeline,
    actor_of,
    clean_order,
    open_hold_reasons,
    paid_order,
    stock_shop,
)
from tests.api.support import ApiTenant, TestClient, assert_problem, stock_of


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """TEE (50.00) and MUG (5.00), 10 units each."""
    return stock_shop(client, tenant)


def _get(client: TestClient, tenant: ApiTenant, order_id: str) -> Any:
    response = client.get(f"/v1/orders/{order_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response


def _edit(
    client: TestClient, tenant: ApiTenant, order_id: str, body: dict[str, Any], if_match: str | None
) -> Any:
    headers = {**tenant.headers, **({"If-Match": if_match} if if_match is not None else {})}
    return client.patch(f"/v1/orders/{order_id}", headers=headers, json=body)


def _reserved(client: TestClient, tenant: ApiTenant) -> dict[str, int]:
    return {sku: stock_of(client, tenant, sku)["reserved"] for sku in ("TEE", "MUG")}


def test_an_order_is_read_with_its_version_as_etag(client: TestClient, shop: ApiTenant) -> None:
    placed = client.post(
        "/v1/orders",
        headers=shop.headers,
        json={"currency": "EUR", "lines": [{"sku": "TEE", "quantity": 1}]},
    )
    order = placed.json()

    response = _get(client, shop, order["id"])

    assert placed.headers["etag"] == response.headers["etag"] == '"1"'
    assert response.json()["version"] == 1
    client.post(f"/v1/orders/{order['id']}/holds", headers=shop.headers, json={})
    assert _get(client, shop, order["id"]).headers["etag"] == '"2"'


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"'], ids=["strong", "weak"])
def test_editing_lines_reserves_again_and_reprices_in_one_new_version(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory, if_match: str
) -> None:
    order = clean_order(client, shop, ("TEE", 1), ("MUG", 4))
    timeline = Timeline(client, shop, order["id"])

    response = _edit(
        client,
        shop,
        order["id"],
        {
            "lines": [
                {"line_no": 1, "quantity": 3},
                {"line_no": 2, "quantity": 0},
                {"sku": "MUG", "quantity": 1, "unit_price": "4.00"},
            ]
        },
        if_match,
    )

    assert response.status_code == 200, response.text
    edited = response.json()
    assert response.headers["etag"] == '"2"'
    assert edited["version"] == 2
    assert [
        (
            ln["line_no"],
            ln["sku"],
            ln["quantities"]["allocated"],
            ln["quantities"]["cancelled"],
            ln["total"],
        )
        for ln in edited["lines"]
    ] == [
        (1, "TEE", 3, 0, "150.00"),
        (2, "MUG", 0, 4, "0.00"),
        (3, "MUG", 1, 0, "4.00"),
    ]
    assert edited["total"] == "154.00"
    assert _reserved(client, shop) == {"TEE": 3, "MUG": 1}
    [event] = timeline.new_events()
    assert (event["type"], event["actor"]) == ("order.edited", actor_of(api_uow, shop))
    assert event["data"]["lines"] == [
        {"line_no": 1, "from": 1, "to": 3},
        {"line_no": 2, "from": 4, "to": 0},
        {"line_no": 3, "sku": "MUG", "added": 1},
    ]
    assert (event["data"]["total_before"], event["data"]["total_after"]) == ("70.00", "154.00")
    assert (
        event["data"]["before"]
        == event["data"]["after"]
        == {
            "status": "on_hold",
            "fulfillment_status": "unfulfilled",
            "payment_status": "pending",
        }
    )


def test_an_edit_without_if_match_is_428(client: TestClient, shop: ApiTenant) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    response = _edit(client, shop, order["id"], {"lines": [{"line_no": 1, "quantity": 2}]}, None)

    assert_problem(response, 428, "precondition_required")
    assert timeline.new_types() == []


@pytest.mark.parametrize("if_match", ['"2"', '"0"', "garbage", '""'])
def test_an_edit_with_a_stale_or_foreign_if_match_is_412(
    client: TestClient, shop: ApiTenant, if_match: str
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    response = _edit(
        client, shop, order["id"], {"lines": [{"line_no": 1, "quantity": 2}]}, if_match
    )

    assert_problem(response, 412, "precondition_failed")
    assert timeline.new_types() == []
    assert _reserved(client, shop) == {"TEE": 1, "MUG": 0}


def test_the_etag_read_before_another_change_is_stale(client: TestClient, shop: ApiTenant) -> None:
    order = clean_order(client, shop)
    etag = _get(client, shop, order["id"]).headers["etag"]
    first = _edit(client, shop, order["id"], {"lines": [{"line_no": 1, "quantity": 2}]}, etag)
    assert first.status_code == 200, first.text

    response = _edit(client, shop, order["id"], {"lines": [{"line_no": 1, "quantity": 5}]}, etag)

    problem = assert_problem(response, 412, "precondition_failed")
    assert problem["version"] == 2
    assert _reserved(client, shop)["TEE"] == 2


@pytest.mark.parametrize(
    ("lines", "code", "pointers"),
    [
        ([{"line_no": 7, "quantity": 1}], "invalid_request", ["#/lines/0/line_no"]),
        (
            [{"line_no": 1, "quantity": 2}, {"sku": "NOPE", "quantity": 1}],
            "invalid_request",
            ["#/lines/1/sku"],
        ),
        ([{"sku": "MUG", "quantity": 0}], "invalid_request", ["#/lines/0/quantity"]),
        ([{"line_no": 1, "sku": "MUG", "quantity": 1}], "validation_failed", ["#/lines/0"]),
        ([{"quantity": 1}], "validation_failed", ["#/lines/0"]),
        (
            [{"line_no": 1, "quantity": 1, "unit_price": "1.00"}],
            "validation_failed",
            ["#/lines/0"],
        ),
        ([{"line_no": 1, "quantity": -1}], "validation_failed", ["#/lines/0/quantity"]),
        (
            [{"line_no": 1, "quantity": 1, "colour": "red"}],
            "validation_failed",
            ["#/lines/0/colour"],
        ),
    ],
    ids=[
        "unknown line",
        "unknown sku",
        "new line without units",
        "line_no and sku",
        "neither line_no nor sku",
        "new price for an existing line",
        "negative quantity",
        "unknown field",
    ],
)
def test_a_bad_line_change_is_422_and_nothing_changes(
    client: TestClient, shop: ApiTenant, lines: list[dict[str, Any]], code: str, pointers: list[str]
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    response = _edit(client, shop, order["id"], {"lines": lines}, '"1"')

    problem = assert_problem(response, 422, code)
    assert [e["pointer"] for e in problem["errors"]] == pointers
    assert timeline.new_types() == []
    assert _get(client, shop, order["id"]).headers["etag"] == '"1"'
    assert _reserved(client, shop) == {"TEE": 1, "MUG": 0}


def test_an_edit_beyond_the_stock_of_an_order_without_backorders_is_409_and_changes_nothing(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop, ("TEE", 2), allow_backorder=False)
    timeline = Timeline(client, shop, order["id"])

    response = _edit(
        client,
        shop,
        order["id"],
        {"lines": [{"line_no": 1, "quantity": 11}, {"sku": "MUG", "quantity": 3}]},
        '"1"',
    )

    problem = assert_problem(response, 409, "insufficient_stock")
    assert problem["shortages"] == [{"sku": "TEE", "requested": 11, "available": 10}]
    assert timeline.new_types() == []
    assert _reserved(client, shop) == {"TEE": 2, "MUG": 0}
    assert [ln["quantity"] for ln in _get(client, shop, order["id"]).json()["lines"]] == [2]


@pytest.mark.parametrize("state", ["released", "cancelled"])
def test_an_order_released_or_cancelled_cannot_be_edited(
    client: TestClient, shop: ApiTenant, state: str
) -> None:
    order = paid_order(client, shop) if state == "released" else clean_order(client, shop)
    if state == "cancelled":
        client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.headers)
    etag = _get(client, shop, order["id"]).headers["etag"]
    timeline = Timeline(client, shop, order["id"])

    response = _edit(client, shop, order["id"], {"lines": [{"line_no": 1, "quantity": 2}]}, etag)

    problem = assert_problem(response, 409, "illegal_transition")
    assert problem["action"] == "edit"
    assert timeline.new_types() == []


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        (None, [("order.edited", "key"), ("hold.released", "system")]),
        (
            {"gateway": "manual", "captured": True},
            [
                ("order.edited", "key"),
                ("hold.released", "system"),
                ("order.released", "system"),
                ("fulfillment_order.created", "system"),
            ],
        ),
    ],
    ids=["unpaid", "paid"],
)
def test_correcting_the_address_lifts_its_hold(
    client: TestClient,
    shop: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
    payment: dict[str, Any] | None,
    expected: list[tuple[str, str]],
) -> None:
    bad = {**VALID_ADDRESS, "postal_code": "5114"}
    order = clean_order(client, shop, shipping_address=bad, payment=payment)
    assert "address_invalid" in open_hold_reasons(order)
    timeline = Timeline(client, shop, order["id"])

    response = _edit(client, shop, order["id"], {"shipping_address": VALID_ADDRESS}, '"1"')

    assert response.status_code == 200, response.text
    who = {"key": actor_of(api_uow, shop), "system": SYSTEM_ACTOR}
    assert [(e["type"], e["actor"]) for e in timeline.new_events()] == [
        (kind, who[actor]) for kind, actor in expected
    ]
    edited = response.json()
    assert "address_invalid" not in open_hold_reasons(edited)
    assert edited["shipping_address"]["postal_code"] == "51147"
    assert (edited["released_at"] is not None) is (payment is not None)


def test_an_address_that_fails_verification_after_an_edit_puts_the_order_on_hold(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    response = _edit(
        client,
        shop,
        order["id"],
        {"shipping_address": {**VALID_ADDRESS, "country": "de", "postal_code": "1"}},
        '"1"',
    )

    assert response.status_code == 200, response.text
    assert timeline.new_types() == ["order.edited", "hold.placed"]
    edited = response.json()
    assert open_hold_reasons(edited) == ["address_invalid", "payment_pending"]
    assert edited["shipping_address"]["country"] == "DE"


def test_editing_an_unknown_order_is_404(client: TestClient, shop: ApiTenant) -> None:
    response = _edit(
        client,
        shop,
        "00000000-0000-7000-8000-000000000000",
        {"lines": [{"line_no": 1, "quantity": 2}]},
        '"1"',
    )

    assert_problem(response, 404, "not_found")
