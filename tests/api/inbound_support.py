"""What the inbound tests over HTTP set up alike: an operator warehouse granted to a
merchant, a supplier, a draft purchase order."""

from __future__ import annotations

from typing import Any

from oms.domain.ids import new_id
from tests.api.support import ApiTenant, TestClient


def granted_warehouse(client: TestClient, operator: dict[str, str], tenant: ApiTenant) -> str:
    """The code of a new operator warehouse granted to ``tenant``."""
    code = f"WH-{new_id().hex[-10:]}"
    made = client.post("/v1/locations", headers=operator, json={"code": code, "name": "3PL"})
    assert made.status_code == 201, made.text
    granted = client.post(
        f"/v1/locations/{code}/grants", headers=operator, json={"tenant_id": str(tenant.id)}
    )
    assert granted.status_code == 204, granted.text
    return code


def new_supplier(client: TestClient, tenant: ApiTenant, name: str = "Acme") -> dict[str, Any]:
    made = client.post(
        "/v1/suppliers",
        headers=tenant.headers,
        json={"name": name, "lead_time_days": 5, "moq": 1, "pack_size": 1, "currency": "EUR"},
    )
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def draft_purchase_order(
    client: TestClient, tenant: ApiTenant, supplier_id: str, location: str, quantity: int = 6
) -> dict[str, Any]:
    """A draft order of ``quantity`` ALPHA at 2.50, expected on 2026-12-14."""
    made = client.post(
        "/v1/purchase-orders",
        headers=tenant.headers,
        json={
            "supplier_id": supplier_id,
            "location": location,
            "expected_at": "2026-12-14",
            "lines": [{"sku": "ALPHA", "quantity": quantity, "unit_cost": "2.50"}],
        },
    )
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found
