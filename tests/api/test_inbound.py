"""Inbound shipments (ASNs) through the API: a merchant announces to the operator's
warehouse, the operator receives (over, short, damaged), puts away and closes; the ledger,
on hand, bins, variance report and events are as docs/inbound.md says; `oms check` is clean."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from oms.adapters.db.tables import inventory_movements, outbox
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.services.checks import find_invariant_violations
from tests.api.inbound_support import granted_warehouse
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_product,
    new_operator_headers,
    set_on_hand,
    stock_of,
)


@pytest.fixture
def operator(api_uow: SqlUnitOfWorkFactory) -> dict[str, str]:
    return new_operator_headers(api_uow)


@pytest.fixture
def warehouse(client: TestClient, operator: dict[str, str], tenant: ApiTenant) -> str:
    """An operator warehouse granted to the tenant under test."""
    return granted_warehouse(client, operator, tenant)


def _announce(client: TestClient, tenant: ApiTenant, warehouse: str) -> dict[str, Any]:
    response = client.post(
        "/v1/inbound-shipments",
        headers=tenant.headers,
        json={
            "location": warehouse,
            "reference": "ASN-1001",
            "tracking": "1Z999",
            "lines": [
                {"sku": "ALPHA", "expected_quantity": 10},
                {"sku": "BRAVO", "expected_quantity": 6},
                {"sku": "CHARLIE", "expected_quantity": 4},
            ],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _ledger(api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant, sku: str) -> list[tuple]:
    mv = inventory_movements.c
    with api_uow.engine.connect() as conn:
        rows = conn.execute(
            select(mv.kind, mv.quantity, mv.on_hand_after, mv.reason)
            .where(mv.tenant_id == tenant.id, mv.sku == sku)
            .order_by(mv.id)
        )
        return [tuple(row) for row in rows]


def _topics(api_uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> list[str]:
    with api_uow.engine.connect() as conn:
        rows = conn.execute(
            select(outbox.c.topic)
            .where(outbox.c.tenant_id == tenant_id, outbox.c.topic.like("inbound_shipment.%"))
            .order_by(outbox.c.id)
        )
        return [row.topic for row in rows]


def test_an_asn_received_over_short_and_damaged_is_booked_as_documented(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    operator: dict[str, str],
    tenant: ApiTenant,
    warehouse: str,
) -> None:
    for sku in ("ALPHA", "BRAVO", "CHARLIE", "OLD"):
        create_product(client, tenant, sku)
    # ALPHA already lies in A-01 with 5 units; E-01 holds OLD, of which none is left.
    set_on_hand(client, tenant, "ALPHA", warehouse, 5)
    bins = client.put(
        f"/v1/locations/{warehouse}/bins",
        headers=tenant.headers,
        json={"bins": [{"sku": "ALPHA", "bin": "A-01"}, {"sku": "OLD", "bin": "E-01"}]},
    )
    assert bins.status_code == 200, bins.text
    asn = _announce(client, tenant, warehouse)
    assert asn["status"] == "announced"
    url = f"/v1/inbound-shipments/{asn['id']}"

    # The merchant announced; only the operator receives into the operator's warehouse.
    refused = client.post(
        f"{url}/receipts",
        headers=tenant.headers,
        json={"lines": [{"sku": "ALPHA", "quantity": 1}]},
    )
    assert_problem(refused, 403)

    cartons = [
        [{"sku": "ALPHA", "quantity": 12, "reason": "supplier sent a spare carton"}],
        [{"sku": "BRAVO", "quantity": 4}],
        [
            {"sku": "CHARLIE", "quantity": 3},
            {"sku": "CHARLIE", "quantity": 1, "condition": "damaged", "reason": "crushed"},
        ],
    ]
    for n, lines in enumerate(cartons):
        scanned = client.post(
            f"{url}/receipts", headers=operator, json={"scan_id": f"carton-{n}", "lines": lines}
        )
        assert scanned.status_code == 200, scanned.text
        assert scanned.json()["counted"] is True
    again = client.post(
        f"{url}/receipts", headers=operator, json={"scan_id": "carton-0", "lines": cartons[0]}
    )
    assert again.json()["counted"] is False  # the same carton scanned twice counts once

    shown = client.get(url, headers=operator).json()
    suggested = {line["sku"]: line["suggested_bin"] for line in shown["lines"]}
    assert suggested == {"ALPHA": "A-01", "BRAVO": "E-01", "CHARLIE": "E-01"}
    put = client.post(
        f"{url}/putaway",
        headers=operator,
        json={
            "lines": [
                {"sku": "ALPHA", "quantity": 12},
                {"sku": "BRAVO", "quantity": 4},
                {"sku": "CHARLIE", "quantity": 3, "bin": "C-07"},
            ]
        },
    )
    assert put.status_code == 200, put.text
    too_many = client.post(
        f"{url}/putaway", headers=operator, json={"lines": [{"sku": "CHARLIE", "quantity": 1}]}
    )
    assert_problem(too_many, 422)  # the damaged unit is not on hand: nothing to put away

    closed = client.post(f"{url}/close", headers=operator)
    assert closed.status_code == 200, closed.text
    report = closed.json()
    assert report["status"] == "closed"
    assert report["lines"] == [
        {"sku": "ALPHA", "expected": 10, "received": 12, "damaged": 0, "variance": 2,
         "verdict": "over"},
        {"sku": "BRAVO", "expected": 6, "received": 4, "damaged": 0, "variance": -2,
         "verdict": "short"},
        {"sku": "CHARLIE", "expected": 4, "received": 4, "damaged": 1, "variance": 0,
         "verdict": "exact"},
    ]  # fmt: skip
    assert [(e["sku"], e["kind"], e["reason"]) for e in report["exceptions"]] == [
        ("ALPHA", "over", "supplier sent a spare carton"),
        ("CHARLIE", "damaged", "crushed"),
        ("BRAVO", "short", "2 fewer than announced"),
    ]

    assert [stock_of(client, tenant, s)["on_hand"] for s in ("ALPHA", "BRAVO", "CHARLIE")] == [
        17,
        4,
        3,
    ]
    assert _ledger(api_uow, tenant, "ALPHA") == [
        ("count", 5, 5, "count"),
        ("receipt", 12, 17, "inbound shipment ASN-1001"),
        ("putaway", 0, 17, "12 units to bin A-01"),
    ]
    assert _ledger(api_uow, tenant, "CHARLIE") == [
        ("receipt", 3, 3, "inbound shipment ASN-1001"),
        ("putaway", 0, 3, "3 units to bin C-07"),
    ]
    where = client.get(f"/v1/locations/{warehouse}/bins", headers=tenant.headers).json()
    assert {b["sku"]: b["bin"] for b in where["items"]} == {
        "ALPHA": "A-01",
        "BRAVO": "E-01",
        "CHARLIE": "C-07",
        "OLD": "E-01",
    }
    assert _topics(api_uow, tenant.id) == [
        "inbound_shipment.announced",
        "inbound_shipment.received",
        "inbound_shipment.received",
        "inbound_shipment.received",
        "inbound_shipment.put_away",
        "inbound_shipment.closed",
    ]
    assert find_invariant_violations(uow_factory=api_uow) == []
    after = client.post(
        f"{url}/receipts", headers=operator, json={"lines": [{"sku": "ALPHA", "quantity": 1}]}
    )
    assert_problem(after, 409)


def test_the_operator_sees_every_merchants_inbound_and_a_merchant_only_its_own(
    client: TestClient,
    operator: dict[str, str],
    tenant: ApiTenant,
    other_tenant: ApiTenant,
    warehouse: str,
) -> None:
    for sku in ("ALPHA", "BRAVO", "CHARLIE"):
        create_product(client, tenant, sku)
    asn = _announce(client, tenant, warehouse)

    def ids(headers: dict[str, str]) -> set[str]:
        found: set[str] = set()
        cursor = None
        while True:
            page = client.get(
                "/v1/inbound-shipments",
                headers=headers,
                params={"limit": 50, **({"cursor": cursor} if cursor else {})},
            ).json()
            found |= {item["id"] for item in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    assert asn["id"] in ids(operator)
    assert asn["id"] in ids(tenant.headers)
    assert asn["id"] not in ids(other_tenant.headers)
    assert_problem(
        client.get(f"/v1/inbound-shipments/{asn['id']}", headers=other_tenant.headers), 404
    )
    seen = client.get(f"/v1/inbound-shipments/{asn['id']}", headers=operator)
    assert seen.json()["tenant_id"] == str(tenant.id)


def test_a_merchant_receives_into_its_own_location(client: TestClient, tenant: ApiTenant) -> None:
    create_product(client, tenant, "ALPHA")
    create_product(client, tenant, "BRAVO")
    create_product(client, tenant, "CHARLIE")
    code = f"OWN-{new_id().hex[-10:]}"
    made = client.post(
        "/v1/locations", headers=tenant.headers, json={"code": code, "name": "Own store"}
    )
    assert made.status_code == 201, made.text
    asn = _announce(client, tenant, code)
    scanned = client.post(
        f"/v1/inbound-shipments/{asn['id']}/receipts",
        headers=tenant.headers,
        json={"lines": [{"sku": "ALPHA", "quantity": 2}, {"sku": "DELTA", "quantity": 1}]},
    )
    assert_problem(scanned, 422)  # DELTA is no product of the tenant: nothing is counted
    scanned = client.post(
        f"/v1/inbound-shipments/{asn['id']}/receipts",
        headers=tenant.headers,
        json={"lines": [{"sku": "ALPHA", "quantity": 2}]},
    )
    assert scanned.status_code == 200, scanned.text
    assert stock_of(client, tenant, "ALPHA")["on_hand"] == 2


def test_a_scan_is_counted_on_the_shipments_own_tenant_and_hidden_from_others(
    client: TestClient,
    operator: dict[str, str],
    tenant: ApiTenant,
    other_tenant: ApiTenant,
    warehouse: str,
) -> None:
    for sku in ("ALPHA", "BRAVO", "CHARLIE"):
        create_product(client, tenant, sku)
    asn = _announce(client, tenant, warehouse)
    url = f"/v1/inbound-shipments/{asn['id']}/receipts"
    scan = {"scan_id": "c1", "lines": [{"sku": "ALPHA", "quantity": 3}]}

    # The operator naming another tenant, and another tenant's key, find no such shipment.
    as_other = {**operator, "OMS-Tenant": str(other_tenant.id)}
    assert_problem(client.post(url, headers=as_other, json=scan), 404)
    assert_problem(client.post(url, headers=other_tenant.headers, json=scan), 404)
    unknown = f"/v1/inbound-shipments/{new_id()}/receipts"
    assert_problem(client.post(unknown, headers=operator, json=scan), 404)
    assert stock_of(client, tenant, "ALPHA")["on_hand"] == 0

    # The operator without OMS-Tenant: the shipment's tenant; naming it: the same.
    counted = client.post(url, headers=operator, json=scan)
    assert counted.status_code == 200, counted.text
    assert counted.json()["counted"] is True
    as_owner = {**operator, "OMS-Tenant": str(tenant.id)}
    again = client.post(url, headers=as_owner, json=scan)
    assert again.status_code == 200, again.text
    assert again.json()["counted"] is False
    assert stock_of(client, tenant, "ALPHA")["on_hand"] == 3
