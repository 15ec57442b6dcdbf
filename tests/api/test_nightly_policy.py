"""The nightly hour is a tenant policy: read and changed through /v1/policies, 0 to 23."""

from __future__ import annotations

from tests.api.support import ApiTenant, TestClient, assert_problem


def test_a_tenant_sets_its_nightly_hour(client: TestClient, tenant: ApiTenant) -> None:
    assert client.get("/v1/policies", headers=tenant.headers).json()["nightly_hour"] == 2
    changed = client.put("/v1/policies", json={"nightly_hour": 5}, headers=tenant.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["nightly_hour"] == 5
    assert changed.json()["duties_terms"] == "DAP"  # the rest unchanged
    body = assert_problem(
        client.put("/v1/policies", json={"nightly_hour": 24}, headers=tenant.headers), 422
    )
    assert "nightly_hour" in str(body)
