"""/v1/billing over HTTP on SQLite and PostgreSQL: who may set prices and see which
statements (tenancy's 403/404 rules), and the statement as JSON, CSV and PDF telling the
same figures.

The ledger is seeded with fixed moments in January 2026 (a month that is over whenever
these tests run), receipts as inbound receiving writes them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.inventory import MovementKind
from tests.api.fulfilment_support import own_engine
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_product,
    new_operator_headers,
)
from tests.databases import ENGINES

PERIOD = "2026-01"


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of the module's own: the operator pages through every merchant's
    statement one a page, which on the shared database is every tenant the modules before
    this one made (as many pages as that, and a cost that depends on the order of modules)."""
    yield from own_engine(request, "billing_api")


PRICES = {
    "currency": "EUR",
    "storage": [{"location": "*", "basis": "unit_day", "rate": "0.02"}],
    "receiving_per_receipt": "10",
    "receiving_per_unit": "0.05",
}


def _operator_warehouse(client: TestClient, operator: dict[str, str], tenant: ApiTenant) -> str:
    code = f"3PL-{tenant.id.hex[-12:]}"
    made = client.post("/v1/locations", headers=operator, json={"code": code, "name": "3PL"})
    assert made.status_code == 201, made.text
    granted = client.post(
        f"/v1/locations/{code}/grants", headers=operator, json={"tenant_id": str(tenant.id)}
    )
    assert granted.status_code in (200, 201, 204), granted.text
    return str(made.json()["id"])


def _receive(
    uow: SqlUnitOfWorkFactory,
    tenant_id: UUID,
    sku: str,
    location_id: UUID,
    units: int,
    at: datetime,
) -> None:
    """A receipt as inbound receiving writes it (level and ``receipt`` movement)."""
    with uow() as unit:
        unit.inventory.ensure_level(tenant_id, sku, location_id, at)
        (level,) = unit.inventory.levels(tenant_id, [sku], [location_id])
        assert unit.inventory.compare_and_set(
            tenant_id, level, on_hand=level.on_hand + units, safety_stock=0, at=at
        )
        unit.inventory.add_movement(
            tenant_id,
            sku=sku,
            location_id=location_id,
            kind=MovementKind.RECEIPT,
            quantity=units,
            on_hand_after=level.on_hand + units,
            reason="received",
            reference=f"ASN-{at:%m%d}",
            actor="test",
            at=at,
        )
        unit.commit()


@pytest.fixture
def billed(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> tuple[dict[str, str], ApiTenant]:
    """A merchant with a price list and stock at the operator's warehouse: 10 units from
    before January, 5 more received on 10 January."""
    operator = new_operator_headers(api_uow)
    location_id = UUID(_operator_warehouse(client, operator, tenant))
    create_product(client, tenant, "BOX")
    _receive(api_uow, tenant.id, "BOX", location_id, 10, datetime(2025, 12, 20, tzinfo=UTC))
    _receive(api_uow, tenant.id, "BOX", location_id, 5, datetime(2026, 1, 10, 9, tzinfo=UTC))
    answer = client.put(
        "/v1/billing/price-list",
        headers={**operator, "OMS-Tenant": str(tenant.id)},
        json=PRICES,
    )
    assert answer.status_code == 200, answer.text
    return operator, tenant


def test_only_the_operator_sets_prices_and_a_merchant_reads_its_own(
    client: TestClient, billed: tuple[dict[str, str], ApiTenant]
) -> None:
    _, tenant = billed
    assert_problem(client.put("/v1/billing/price-list", headers=tenant.headers, json=PRICES), 403)
    own = client.get("/v1/billing/price-list", headers=tenant.headers)
    assert own.status_code == 200
    assert own.json()["receiving_per_receipt"] == "10"
    assert own.json()["storage"] == [{"location": "*", "basis": "unit_day", "rate": "0.02"}]


def test_a_bad_price_list_or_period_is_a_problem_naming_the_field(
    client: TestClient, billed: tuple[dict[str, str], ApiTenant]
) -> None:
    operator, tenant = billed
    as_tenant = {**operator, "OMS-Tenant": str(tenant.id)}
    bad = client.put(
        "/v1/billing/price-list", headers=as_tenant, json={**PRICES, "pick_per_unit": "-1"}
    )
    assert_problem(bad, 422)
    bad_period = client.get("/v1/billing/statements?period=2026-13", headers=tenant.headers)
    body = assert_problem(bad_period, 422)
    assert "query:period" in str(body)


def _every_page(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """Every page of a statements list, followed by its cursors, joined."""
    joined: dict[str, Any] = {"items": [], "unpriced_tenants": []}
    cursor: str | None = None
    while True:
        answer = client.get(path + (f"&cursor={cursor}" if cursor else ""), headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        joined["items"] += page["items"]
        joined["unpriced_tenants"] += page["unpriced_tenants"]
        cursor = page["next_cursor"]
        if cursor is None:
            return joined


def test_the_operator_pages_through_every_merchants_statement_once(
    client: TestClient,
    billed: tuple[dict[str, str], ApiTenant],
    other_tenant: ApiTenant,
) -> None:
    operator, tenant = billed
    path = f"/v1/billing/statements?period={PERIOD}"
    whole = _every_page(client, f"{path}&limit=50", operator)
    by_one = _every_page(client, f"{path}&limit=1", operator)

    named = [s["tenant_id"] for s in by_one["items"]] + by_one["unpriced_tenants"]
    assert len(named) == len(set(named))  # no merchant twice
    assert {str(tenant.id), str(other_tenant.id)} <= set(named)
    assert sorted(named) == sorted(
        [s["tenant_id"] for s in whole["items"]] + whole["unpriced_tenants"]
    )
    first = client.get(f"{path}&limit=1", headers=operator).json()
    assert len(first["items"]) + len(first["unpriced_tenants"]) == 1
    assert first["next_cursor"] is not None
    body = assert_problem(client.get(f"{path}&cursor=bm90LWFuLWlk", headers=operator), 422)
    assert "query:cursor" in str(body)


def test_the_statement_counts_the_month_and_each_caller_sees_what_tenancy_allows(
    client: TestClient,
    billed: tuple[dict[str, str], ApiTenant],
    other_tenant: ApiTenant,
) -> None:
    operator, tenant = billed
    everyone = _every_page(client, f"/v1/billing/statements?period={PERIOD}&limit=50", operator)
    mine = next(s for s in everyone["items"] if s["tenant_id"] == str(tenant.id))
    assert str(other_tenant.id) in everyone["unpriced_tenants"]
    # 10 units all 31 days, 5 more from the 10th: 22 days.
    assert mine["activity"]["storage"][0]["unit_days"] == 10 * 31 + 5 * 22
    assert (mine["activity"]["receipts"], mine["activity"]["receipt_units"]) == (1, 5)
    lines = {line["code"]: line["amount"] for line in mine["lines"]}
    assert lines["receiving.receipt"] == "10.00"
    assert lines["receiving.unit"] == "0.25"
    assert mine["total"] == str(sum(Decimal(a) for a in lines.values()))

    own = client.get(f"/v1/billing/statements?period={PERIOD}", headers=tenant.headers).json()
    assert [s["tenant_id"] for s in own["items"]] == [str(tenant.id)]
    assert own["items"][0] == mine
    theirs = client.get(f"/v1/billing/statements?period={PERIOD}", headers=other_tenant.headers)
    assert theirs.json()["items"] == []
    # Another merchant's statement is not found, exactly like one that does not exist.
    path = f"/v1/billing/statements/{tenant.id}?period={PERIOD}"
    assert_problem(client.get(path, headers=other_tenant.headers), 404)
    unknown = f"/v1/billing/statements/{UUID(int=7)}?period={PERIOD}"
    assert_problem(client.get(unknown, headers=operator), 404)
    assert client.get(path, headers=operator).json() == mine
    # Without a price list there is nothing to bill yet.
    no_prices = f"/v1/billing/statements/{other_tenant.id}?period={PERIOD}"
    assert_problem(client.get(no_prices, headers=other_tenant.headers), 409)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_csv_and_the_pdf_tell_the_same_figures_as_the_json(
    client: TestClient, billed: tuple[dict[str, str], ApiTenant]
) -> None:
    _, tenant = billed
    base = f"/v1/billing/statements/{tenant.id}"
    statement: dict[str, Any] = client.get(f"{base}?period={PERIOD}", headers=tenant.headers).json()

    exported = client.get(f"{base}/csv?period={PERIOD}", headers=tenant.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    *priced, total = rows
    assert [(r["code"], r["amount"]) for r in priced] == [
        (line["code"], line["amount"]) for line in statement["lines"]
    ]
    assert total["code"] == "total"
    assert Decimal(total["amount"]) == sum(Decimal(r["amount"]) for r in priced)
    assert total["amount"] == statement["total"]

    drawn = client.get(f"{base}/pdf?period={PERIOD}", headers=tenant.headers)
    assert drawn.status_code == 200
    assert drawn.headers["content-type"] == "application/pdf"
    text = _pdf_text(drawn.content)
    assert f"Statement {PERIOD}" in text
    assert f"{statement['total']} EUR" in text
    for line in statement["lines"]:
        assert line["description"] in text
