"""Receiving an ASN per carton through the API, on SQLite and PostgreSQL: a merchant
announces cartons (the lines are their sums); scanning a carton's code receives its
announced contents at once (scanned again, nothing more); a carton's lines may be scanned
too, and a carton code nobody announced is recorded; the close reports over and short per
carton beside the lines' variance. Bad cartons are 422s naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_product,
    new_operator_headers,
    stock_of,
)


@pytest.fixture
def operator(api_uow: SqlUnitOfWorkFactory) -> dict[str, str]:
    return new_operator_headers(api_uow)


@pytest.fixture
def warehouse(client: TestClient, operator: dict[str, str], tenant: ApiTenant) -> str:
    code = f"WH-{new_id().hex[-10:]}"
    made = client.post("/v1/locations", headers=operator, json={"code": code, "name": "3PL"})
    assert made.status_code == 201, made.text
    granted = client.post(
        f"/v1/locations/{code}/grants", headers=operator, json={"tenant_id": str(tenant.id)}
    )
    assert granted.status_code == 204, granted.text
    for sku in ("ALPHA", "BRAVO"):
        create_product(client, tenant, sku)
    return code


def _carton(code: str, **units: int) -> dict[str, Any]:
    return {"code": code, "lines": [{"sku": s, "expected_quantity": q} for s, q in units.items()]}


def test_a_carton_scan_receives_its_contents_and_the_close_reports_each_carton(
    client: TestClient, tenant: ApiTenant, operator: dict[str, str], warehouse: str
) -> None:
    made = client.post(
        "/v1/inbound-shipments",
        headers=tenant.headers,
        json={
            "location": warehouse,
            "reference": "ASN-CARTONS",
            "cartons": [_carton("C1", ALPHA=4, BRAVO=2), _carton("C2", ALPHA=3)],
        },
    )
    assert made.status_code == 201, made.text
    asn = made.json()
    assert [(ln["sku"], ln["expected"]) for ln in asn["lines"]] == [("ALPHA", 7), ("BRAVO", 2)]
    url = f"/v1/inbound-shipments/{asn['id']}"

    whole = client.post(f"{url}/receipts", headers=operator, json={"carton": "C1"})
    again = client.post(f"{url}/receipts", headers=operator, json={"carton": "C1"})
    opened = client.post(
        f"{url}/receipts",
        headers=operator,
        json={"carton": "C2", "lines": [{"sku": "ALPHA", "quantity": 2}]},
    )
    stray = client.post(
        f"{url}/receipts",
        headers=operator,
        json={"carton": "C9", "lines": [{"sku": "BRAVO", "quantity": 1}]},
    )
    loose = client.post(  # the line-level API as before: no carton named
        f"{url}/receipts", headers=operator, json={"lines": [{"sku": "BRAVO", "quantity": 1}]}
    )
    unknown = client.post(f"{url}/receipts", headers=operator, json={"carton": "C7"})
    closed = client.post(f"{url}/close", headers=operator)

    assert (whole.status_code, whole.json()["counted"]) == (200, True)
    assert whole.json()["scan_id"] == "carton:C1"
    assert again.json()["counted"] is False
    assert (opened.status_code, stray.status_code, loose.status_code) == (200, 200, 200)
    body = assert_problem(unknown, 422)
    assert "#/carton" in str(body)
    report = closed.json()
    assert [(c["code"], c["expected"], c["received"], c["verdict"]) for c in report["cartons"]] == [
        ("C1", 6, 6, "exact"),
        ("C2", 3, 2, "short"),
        ("C9", 0, 1, "unexpected"),
    ]
    assert report["cartons"][1]["lines"] == [
        {"sku": "ALPHA", "expected": 3, "received": 2, "variance": -1}
    ]
    assert [(v["sku"], v["expected"], v["received"], v["verdict"]) for v in report["lines"]] == [
        ("ALPHA", 7, 6, "short"),
        ("BRAVO", 2, 4, "over"),
    ]
    assert stock_of(client, tenant, "ALPHA")["on_hand"] == 6
    assert stock_of(client, tenant, "BRAVO")["on_hand"] == 4


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"cartons": [_carton("C1", ALPHA=1), _carton("C1", BRAVO=1)]}, "#/cartons/1/code"),
        (
            {"cartons": [{"code": "C1", "lines": [{"sku": "ALPHA", "expected_quantity": 1}] * 2}]},
            "#/cartons/0/lines",
        ),
        (
            {
                "cartons": [_carton("C1", ALPHA=2)],
                "lines": [{"sku": "ALPHA", "expected_quantity": 3}],
            },
            "#/cartons",
        ),
    ],
)
def test_bad_cartons_are_refused_naming_the_field(
    client: TestClient, tenant: ApiTenant, warehouse: str, body: dict[str, Any], pointer: str
) -> None:
    answer = client.post(
        "/v1/inbound-shipments",
        headers=tenant.headers,
        json={"location": warehouse, "reference": "ASN-BAD", **body},
    )

    problem = assert_problem(answer, 422)
    assert pointer in str(problem)


def test_an_announcement_needs_lines_or_cartons(
    client: TestClient, tenant: ApiTenant, warehouse: str
) -> None:
    answer = client.post(
        "/v1/inbound-shipments",
        headers=tenant.headers,
        json={"location": warehouse, "reference": "ASN-EMPTY"},
    )

    assert_problem(answer, 422)
