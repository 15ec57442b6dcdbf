"""Cycle counts through the API: a blind count sheet by bin, variance review, approval
posting `count` movements with the reason; `oms check` stays clean."""

from __future__ import annotations

from sqlalchemy import select

from oms.adapters.db.tables import inventory_movements
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.services.checks import find_invariant_violations
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    place_order,
    set_on_hand,
    stock_of,
)


def test_a_blind_count_by_bin_is_reviewed_and_approved_into_count_movements(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    code = f"CC-{new_id().hex[-10:]}"
    create_location(client, tenant, code)
    for sku in ("TEE", "CAP", "MUG"):
        create_product(client, tenant, sku)
    set_on_hand(client, tenant, "TEE", code, 10)
    set_on_hand(client, tenant, "CAP", code, 4)
    set_on_hand(client, tenant, "MUG", code, 7)
    bins = [
        {"sku": "TEE", "bin": "A-01"},
        {"sku": "CAP", "bin": "A-02"},
        {"sku": "MUG", "bin": "B-01"},
    ]
    assert (
        client.put(
            f"/v1/locations/{code}/bins", headers=tenant.headers, json={"bins": bins}
        ).status_code
        == 200
    )
    place_order(client, tenant, ("CAP", 3))  # 3 CAP reserved

    made = client.post(
        "/v1/cycle-counts",
        headers=tenant.headers,
        json={"location": code, "bins": ["A-01", "A-02"]},
    )
    assert made.status_code == 201, made.text
    sheet = made.json()
    assert [(ln["sku"], ln["bin"], ln["on_hand"]) for ln in sheet["lines"]] == [
        ("CAP", "A-02", None),
        ("TEE", "A-01", None),
    ]  # blind: no figures to copy
    url = f"/v1/cycle-counts/{sheet['id']}"
    assert_problem(client.post(f"{url}/approve", headers=tenant.headers, json={"reason": "x"}), 409)
    counted = client.post(
        f"{url}/counts", headers=tenant.headers, json={"lines": [{"sku": "TEE", "counted": 8}]}
    ).json()
    assert counted["status"] == "open"
    assert counted["lines"][1]["on_hand"] is None  # still blind: CAP not counted yet
    counted = client.post(
        f"{url}/counts", headers=tenant.headers, json={"lines": [{"sku": "CAP", "counted": 5}]}
    ).json()
    assert counted["status"] == "counted"
    assert [
        (ln["sku"], ln["on_hand"], ln["counted"], ln["variance"]) for ln in counted["lines"]
    ] == [
        ("CAP", 4, 5, 1),
        ("TEE", 10, 8, -2),
    ]

    approved = client.post(
        f"{url}/approve", headers=tenant.headers, json={"reason": "quarterly count"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert [stock_of(client, tenant, s)["on_hand"] for s in ("TEE", "CAP", "MUG")] == [8, 5, 7]
    mv = inventory_movements.c
    with api_uow.engine.connect() as conn:
        rows = conn.execute(
            select(mv.sku, mv.kind, mv.quantity, mv.on_hand_after, mv.reason)
            .where(mv.tenant_id == tenant.id, mv.reference == sheet["id"])
            .order_by(mv.sku)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("CAP", "count", 1, 5, "cycle count: quarterly count"),
        ("TEE", "count", -2, 8, "cycle count: quarterly count"),
    ]
    assert find_invariant_violations(uow_factory=api_uow) == []
    assert_problem(client.post(f"{url}/approve", headers=tenant.headers, json={"reason": "x"}), 409)


def test_a_count_below_what_is_reserved_refuses_the_whole_approval(
    client: TestClient, tenant: ApiTenant
) -> None:
    code = f"CC-{new_id().hex[-10:]}"
    create_location(client, tenant, code)
    create_product(client, tenant, "CAP")
    create_product(client, tenant, "TEE")
    set_on_hand(client, tenant, "CAP", code, 4)
    set_on_hand(client, tenant, "TEE", code, 4)
    place_order(client, tenant, ("CAP", 3))
    sheet = client.post(
        "/v1/cycle-counts",
        headers=tenant.headers,
        json={"location": code, "skus": ["CAP", "TEE"], "blind": False},
    ).json()
    url = f"/v1/cycle-counts/{sheet['id']}"
    client.post(
        f"{url}/counts",
        headers=tenant.headers,
        json={"lines": [{"sku": "CAP", "counted": 1}, {"sku": "TEE", "counted": 9}]},
    )

    assert_problem(client.post(f"{url}/approve", headers=tenant.headers, json={"reason": "r"}), 409)
    assert [stock_of(client, tenant, s)["on_hand"] for s in ("CAP", "TEE")] == [4, 4]
