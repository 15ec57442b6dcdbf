"""The portal's inbound forms over HTTP, on both databases: a merchant announces an inbound
shipment and drafts a purchase order by typing (or pasting) its lines; refusals come back on
the form, by row, with nothing stored; the operator's staff pick a merchant first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.domain.ids import new_id
from oms.domain.users import Role
from tests.api.inbound_support import granted_warehouse, new_supplier
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import (
    ApiTenant,
    TestClient,
    create_product,
    new_operator_headers,
    new_tenant,
)


@pytest.fixture
def merchant(client: TestClient, api_uow: SqlUnitOfWorkFactory) -> ApiTenant:
    shop = new_tenant(api_uow, f"Forms Shop {new_id().hex[-6:]}")
    for sku in ("ALPHA", "BRAVO"):
        create_product(client, shop, sku)
    return shop


@pytest.fixture
def warehouse(client: TestClient, api_uow: SqlUnitOfWorkFactory, merchant: ApiTenant) -> str:
    """An operator warehouse granted to the merchant."""
    return granted_warehouse(client, new_operator_headers(api_uow), merchant)


def _send(client: TestClient, form: str, **data: str) -> Any:
    token = csrf_of(client.get(form).text)
    return client.post(form, data={"csrf_token": token, **data}, follow_redirects=False)


def _shipments(client: TestClient, merchant: ApiTenant) -> list[Any]:
    found: list[Any] = client.get("/v1/inbound-shipments", headers=merchant.headers).json()["items"]
    return found


def test_a_merchant_announces_a_shipment_by_pasting_its_lines(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, merchant: ApiTenant, warehouse: str
) -> None:
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id)) == 303
    form = client.get("/app/inbound/shipments/new")

    sent = _send(
        client,
        "/app/inbound/shipments/new",
        location=warehouse,
        reference="ASN-7",
        tracking="1Z999",
        lines="ALPHA, 2\n\nBRAVO;3\n",
    )

    assert form.status_code == 200
    assert f'<option value="{warehouse}"' in form.text
    assert 'href="/app/inbound/shipments/new"' in client.get("/app/inbound/shipments").text
    assert sent.status_code == 303
    [made] = _shipments(client, merchant)
    assert sent.headers["location"] == f"/app/inbound/{merchant.id}/shipments/{made['id']}"
    assert (made["reference"], made["location"], made["status"]) == (
        "ASN-7",
        warehouse,
        "announced",
    )
    assert {ln["sku"]: ln["expected"] for ln in made["lines"]} == {"ALPHA": 2, "BRAVO": 3}


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        ("ALPHA, 2\nNOPE, 1", "row 2"),
        ("ALPHA, 2\nALPHA, 1", "each SKU once per shipment"),
        ("ALPHA, two", "Row 1: the quantity must be a whole number"),
        ("ALPHA", "Row 1: write SKU, quantity"),
        ("", "Type at least one row"),
    ],
)
def test_a_refused_announcement_stores_nothing_and_says_which_row(
    client: TestClient,
    api_uow: SqlUnitOfWorkFactory,
    merchant: ApiTenant,
    warehouse: str,
    lines: str,
    said: str,
) -> None:
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id)) == 303

    sent = _send(
        client, "/app/inbound/shipments/new", location=warehouse, reference="ASN-8", lines=lines
    )

    assert sent.status_code == 422
    assert said in sent.text
    assert "ASN-8" in sent.text  # what was typed is kept
    assert _shipments(client, merchant) == []


def test_a_viewer_may_not_announce_and_the_operator_picks_a_merchant_first(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, merchant: ApiTenant, warehouse: str
) -> None:
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_VIEWER, merchant.id)) == 303
    looked = client.get("/app/inbound/shipments/new")
    refused = _send(
        client, "/app/inbound/shipments/new", location=warehouse, reference="X", lines="ALPHA, 1"
    )
    assert sign_in(client, new_user(api_uow, Role.OPERATOR_STAFF)) == 303
    unpicked = client.get("/app/inbound/shipments/new").text
    token = csrf_of(client.get("/app/orders").text)
    client.post("/app/tenant", data={"csrf_token": token, "tenant": str(merchant.id)})
    picked = _send(
        client, "/app/inbound/shipments/new", location=warehouse, reference="OP-1", lines="BRAVO,4"
    )

    assert "Announce</button>" not in looked.text
    assert refused.status_code == 403
    assert "Pick the merchant" in unpicked
    assert picked.status_code == 303
    [made] = _shipments(client, merchant)
    assert made["reference"] == "OP-1"


def test_a_merchant_drafts_a_purchase_order_with_unit_costs(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, merchant: ApiTenant, warehouse: str
) -> None:
    supplier = new_supplier(client, merchant)
    assert sign_in(client, new_user(api_uow, Role.MERCHANT_ADMIN, merchant.id)) == 303
    form = "/app/inbound/purchase-orders/new"

    bad_date = _send(
        client,
        form,
        supplier=supplier["id"],
        location=warehouse,
        expected_at="soon",
        lines="ALPHA, 6, 2.50",
    )
    bad_cost = _send(
        client,
        form,
        supplier=supplier["id"],
        location=warehouse,
        expected_at="2026-12-20",
        lines="ALPHA, 6, cheap",
    )
    drafted = _send(
        client,
        form,
        supplier=supplier["id"],
        location=warehouse,
        expected_at="2026-12-20",
        lines="ALPHA\t6\t2.50\nBRAVO\t12\t1.05",
    )

    assert (bad_date.status_code, bad_cost.status_code) == (422, 422)
    assert "YYYY-MM-DD" in bad_date.text
    assert "Row 1: the unit cost must be an amount" in bad_cost.text
    assert drafted.status_code == 303
    [po] = client.get("/v1/purchase-orders", headers=merchant.headers).json()["items"]
    assert drafted.headers["location"].startswith(
        f"/app/inbound/{merchant.id}/purchase-orders/{po['id']}"
    )
    assert (po["status"], po["expected_at"], po["location"]) == ("draft", "2026-12-20", warehouse)
    assert [(ln["sku"], ln["quantity"], Decimal(ln["unit_cost"])) for ln in po["lines"]] == [
        ("ALPHA", 6, Decimal("2.50")),
        ("BRAVO", 12, Decimal("1.05")),
    ]
