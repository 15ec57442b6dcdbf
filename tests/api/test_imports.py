"""POST /v1/imports: a CSV as the body or as a multipart upload; a summary with per-row
errors; the same file twice changes nothing; a file it cannot read is a problem+json."""

from __future__ import annotations

from pathlib import Path

from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    stock_of,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_a_shopify_export_uploaded_as_a_form_file_is_imported_once(
    client: TestClient, tenant: ApiTenant
) -> None:
    data = (FIXTURES / "shopify_products_export.csv").read_bytes()

    def upload() -> dict[str, object]:
        response = client.post(
            "/v1/imports",
            headers=tenant.headers,
            params={"kind": "products", "currency": "eur"},  # any case
            files={"file": ("products_export.csv", data, "text/csv")},
        )
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    first = upload()
    assert (first["created"], first["skipped"], first["failed"], first["errors"]) == (6, 1, 0, [])
    again = upload()
    assert (again["created"], again["unchanged"]) == (0, 6)
    product = client.get("/v1/products", headers=tenant.headers, params={"limit": 10}).json()
    assert "GIFT-25" in [p["sku"] for p in product["items"]]


def test_a_csv_body_answers_each_refused_row_with_row_and_column(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    create_product(client, tenant, "A")
    body = b"sku,location,on_hand\nA,WH-1,9\nA,WH-1,many\nZ,WH-1,1\n"
    response = client.post(
        "/v1/imports",
        headers={**tenant.headers, "Content-Type": "text/csv"},
        params={"kind": "inventory"},
        content=body,
    )
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["rows"], summary["updated"], summary["failed"]) == (3, 1, 2)
    assert [(e["row"], e["column"]) for e in summary["errors"]] == [(3, "on_hand"), (4, "sku")]
    assert stock_of(client, tenant, "A")["on_hand"] == 9


def test_a_dry_run_answers_the_same_and_writes_nothing(
    client: TestClient, tenant: ApiTenant
) -> None:
    create_location(client, tenant, "WH-1")
    create_product(client, tenant, "A")
    response = client.post(
        "/v1/imports",
        headers={**tenant.headers, "Content-Type": "text/csv"},
        params={"kind": "inventory", "dry_run": "true"},
        content=b"sku,location,on_hand\nA,WH-1,9\n",
    )
    assert (response.json()["updated"], response.json()["dry_run"]) == (1, True)
    assert stock_of(client, tenant, "A")["on_hand"] == 0


def test_a_file_without_its_required_columns_is_a_problem(
    client: TestClient, tenant: ApiTenant
) -> None:
    response = client.post(
        "/v1/imports",
        headers={**tenant.headers, "Content-Type": "text/csv"},
        params={"kind": "orders"},
        content=b"sku,quantity\nA,1\n",
    )
    problem = assert_problem(response, 422)
    assert {e["pointer"] for e in problem["errors"]} == {"row:1/order_id", "row:1/currency"}


def test_anything_but_a_csv_is_refused(client: TestClient, tenant: ApiTenant) -> None:
    response = client.post(
        "/v1/imports", headers=tenant.headers, params={"kind": "orders"}, json={"a": 1}
    )
    assert_problem(response, 422)
