"""The inventory ledger over HTTP: ``GET /v1/inventory/{sku}/movements``.

Every change of on hand is one movement, signed, with the figure after it and who made it;
the movements of a SKU at a location add up to its on hand.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.services.tenants import create_tenant
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    new_tenant,
    set_on_hand,
    stock_of,
    walk_pages,
)


def _adjust(client: TestClient, tenant: ApiTenant, **body: Any) -> Any:
    return client.post("/v1/inventory/adjustments", headers=tenant.headers, json=body)


def _ledger(client: TestClient, tenant: ApiTenant, sku: str, **params: str) -> list[dict[str, Any]]:
    """Every movement of ``sku``, through all pages."""
    pages = walk_pages(
        client, f"/v1/inventory/{sku}/movements", tenant.headers, limit=50, params=params
    )
    return [movement for page in pages for movement in page]


@pytest.fixture
def stocked(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """A tenant with two locations and one product, TEE, with no stock yet."""
    create_location(client, tenant, "WH-1")
    create_location(client, tenant, "WH-2")
    create_product(client, tenant, "TEE")
    return tenant


def test_adjustments_show_up_as_signed_movements_with_reason_and_actor(
    client: TestClient, api_uow: SqlUnitOfWorkFactory
) -> None:
    created, key = create_tenant(uow_factory=api_uow, name="ledger actor")
    tenant = ApiTenant(id=created.id, secret=key.secret)
    create_location(client, tenant, "WH-1")
    create_product(client, tenant, "TEE")

    set_on_hand(client, tenant, "TEE", "WH-1", 10)
    damaged = _adjust(
        client,
        tenant,
        sku="TEE",
        location="WH-1",
        delta=-3,
        reason="damaged in storage",
        reference="RMA-7",
    )
    assert damaged.status_code == 201, damaged.text
    safety_only = _adjust(client, tenant, sku="TEE", location="WH-1", safety_stock=2, reason="x")
    assert safety_only.status_code == 201, safety_only.text
    set_on_hand(client, tenant, "TEE", "WH-1", 4)

    ledger = _ledger(client, tenant, "TEE")

    actor = f"api_key:{key.key_id}"
    assert [
        (m["kind"], m["quantity"], m["on_hand_after"], m["reason"], m["reference"], m["actor"])
        for m in ledger
    ] == [
        ("count", 10, 10, "count", None, actor),
        ("adjustment", -3, 7, "damaged in storage", "RMA-7", actor),
        ("count", -3, 4, "count", None, actor),
    ]
    assert {(m["sku"], m["location"]) for m in ledger} == {("TEE", "WH-1")}
    assert [m["created_at"] for m in ledger] == sorted(m["created_at"] for m in ledger)


def test_the_location_filter_shows_only_that_locations_movements(
    client: TestClient, stocked: ApiTenant
) -> None:
    set_on_hand(client, stocked, "TEE", "WH-1", 5)
    set_on_hand(client, stocked, "TEE", "WH-2", 8)
    _adjust(client, stocked, sku="TEE", location="WH-2", delta=-1, reason="sample")
    wh2_id = next(
        row["location_id"]
        for row in stock_of(client, stocked, "TEE")["locations"]
        if row["location"] == "WH-2"
    )

    at_wh2 = _ledger(client, stocked, "TEE", location="WH-2")

    assert [(m["location"], m["quantity"]) for m in at_wh2] == [("WH-2", 8), ("WH-2", -1)]
    assert {m["location_id"] for m in at_wh2} == {wh2_id}
    assert len(_ledger(client, stocked, "TEE")) == 3


def test_an_unknown_location_code_is_refused_naming_the_query_parameter(
    client: TestClient, stocked: ApiTenant
) -> None:
    response = client.get(
        "/v1/inventory/TEE/movements", headers=stocked.headers, params={"location": "NOWHERE"}
    )

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == ["query:location"]


def test_pages_follow_the_cursor_oldest_first_without_gaps_or_repeats(
    client: TestClient, stocked: ApiTenant
) -> None:
    for units in (1, 2, 3, 4, 5):
        set_on_hand(client, stocked, "TEE", "WH-1", units * 10)

    pages = walk_pages(client, "/v1/inventory/TEE/movements", stocked.headers, limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [m["on_hand_after"] for page in pages for m in page] == [10, 20, 30, 40, 50]
    assert [m["id"] for page in pages for m in page] == [
        m["id"] for m in _ledger(client, stocked, "TEE")
    ]


def test_a_cursor_that_is_not_an_id_is_refused(client: TestClient, stocked: ApiTenant) -> None:
    response = client.get(
        "/v1/inventory/TEE/movements", headers=stocked.headers, params={"cursor": "bm9wZQ"}
    )

    body = assert_problem(response, 422)
    assert [error["pointer"] for error in body["errors"]] == ["query:cursor"]


def test_a_product_with_no_stock_changes_has_an_empty_ledger(
    client: TestClient, stocked: ApiTenant
) -> None:
    response = client.get("/v1/inventory/TEE/movements", headers=stocked.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


def test_an_unknown_sku_is_not_found(client: TestClient, stocked: ApiTenant) -> None:
    response = client.get("/v1/inventory/NO-SUCH-SKU/movements", headers=stocked.headers)

    assert_problem(response, 404, "not_found")


def test_another_tenants_sku_answers_like_a_missing_one(
    client: TestClient, stocked: ApiTenant, other_tenant: ApiTenant
) -> None:
    create_location(client, other_tenant, "WH-1")
    create_product(client, other_tenant, "THEIRS")
    set_on_hand(client, other_tenant, "THEIRS", "WH-1", 9)

    foreign = client.get("/v1/inventory/THEIRS/movements", headers=stocked.headers)
    missing = client.get("/v1/inventory/NOTHERE/movements", headers=stocked.headers)

    foreign_body = assert_problem(foreign, 404, "not_found")
    missing_body = assert_problem(missing, 404, "not_found")
    assert foreign_body["detail"].replace("THEIRS", "<sku>") == missing_body["detail"].replace(
        "NOTHERE", "<sku>"
    )


@pytest.fixture(scope="module")
def shop(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    """One tenant for all examples; each example takes a SKU of its own."""
    shop = new_tenant(api_uow, "ledger shop")
    create_location(client, shop, "WH-1")
    create_location(client, shop, "WH-2")
    return shop


ADJUSTMENTS = st.lists(
    st.tuples(
        st.sampled_from(["WH-1", "WH-2"]),
        st.one_of(
            st.builds(lambda d: {"delta": d}, st.integers(-30, 30)),
            st.builds(lambda n: {"set_on_hand": n}, st.integers(0, 60)),
            st.builds(lambda s: {"safety_stock": s}, st.integers(0, 5)),
        ),
    ),
    max_size=12,
)


@settings(max_examples=25, deadline=None)
@given(adjustments=ADJUSTMENTS)
def test_the_ledger_sums_to_on_hand_at_every_location(
    client: TestClient, shop: ApiTenant, adjustments: list[tuple[str, dict[str, int]]]
) -> None:
    sku = f"SKU-{uuid4().hex[:12]}"
    create_product(client, shop, sku)
    for location, change in adjustments:
        # Some are refused (on hand below zero); a refused one must leave no movement.
        response = _adjust(client, shop, sku=sku, location=location, reason="probe", **change)
        assert response.status_code in (201, 422), response.text

    ledger = _ledger(client, shop, sku)
    stock = stock_of(client, shop, sku)

    on_hand = {row["location"]: row["on_hand"] for row in stock["locations"]}
    summed = dict.fromkeys(on_hand, 0)
    for movement in ledger:
        summed[movement["location"]] += movement["quantity"]
    assert summed == on_hand
    last_after = {m["location"]: m["on_hand_after"] for m in ledger}
    assert last_after == {code: units for code, units in on_hand.items() if code in last_after}
    assert all(m["quantity"] != 0 for m in ledger)
