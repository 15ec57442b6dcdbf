"""Replenishment per supplier: each SKU planned under its linked supplier's lead time, MOQ
and pack size at every location, with stock on order counted; transfers between locations
suggested before buying; a supplier's suggestions become draft purchase orders in one call.
Both databases (the API fixtures run each module on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.memory.forecasting import WeekdayMeanEngine
from oms.services.demand import import_sales_history
from oms.services.forecasting import run_forecasts
from tests.api.support import ApiTenant, TestClient, assert_problem
from tests.builders import add_location, add_product, set_stock

# A flat 4 units a day at each location: with a 5-day lead time and a 7-day review the
# reorder point is 20 and the order-up-to level 48 (the weekday means backtest exactly,
# so safety stock is 0), whatever day the route reads the forecast on.
NOW = datetime(2030, 1, 1, 2, 0, tzinfo=UTC)
URL = "/v1/replenishment/suggestions"


def _network(
    uow: SqlUnitOfWorkFactory, tenant: ApiTenant, stock: dict[str, dict[str, int]]
) -> None:
    for code in ("RPA", "RPB"):
        add_location(uow, tenant.id, code)
    for sku, at in stock.items():
        add_product(uow, tenant.id, sku)
        for code, units in at.items():
            set_stock(uow, tenant.id, sku, code, units)
    start = NOW.date() - timedelta(days=28)
    lines = ["date,sku,location,quantity"] + [
        f"{(start + timedelta(days=i)).isoformat()},{sku},{code},4"
        for i in range(28)
        for sku in stock
        for code in ("RPA", "RPB")
    ]
    import_sales_history(uow_factory=uow, tenant_id=tenant.id, text="\n".join(lines))
    run_forecasts(
        uow_factory=uow, engine=WeekdayMeanEngine(), tenant_id=tenant.id, now=NOW, horizon=7
    )


def _supplier(client: TestClient, tenant: ApiTenant, skus: list[str]) -> str:
    created = client.post(
        "/v1/suppliers",
        json={"name": "Acme", "lead_time_days": 5, "moq": 25, "pack_size": 10, "currency": "EUR"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    supplier_id: str = created.json()["id"]
    for sku in skus:
        linked = client.put(
            f"/v1/suppliers/{supplier_id}/skus/{sku}",
            json={"unit_cost": "2.50"},
            headers=tenant.headers,
        )
        assert linked.status_code == 200, linked.text
    return supplier_id


def _lines(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (line["sku"], line["location"]): line
        for group in body["suppliers"]
        for line in group["lines"]
    }


def test_suggestions_are_grouped_per_supplier_with_its_terms(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    _network(api_uow, tenant, {"NUT": {"RPA": 0, "RPB": 30}, "PIN": {"RPA": 0, "RPB": 0}})
    supplier_id = _supplier(client, tenant, ["NUT"])  # PIN has no supplier
    body = client.get(URL, headers=tenant.headers).json()
    assert body["transfers"] == []  # nobody holds more than its order-up-to level
    assert body["unlinked"] == ["PIN"]
    [group] = body["suppliers"]
    assert (group["supplier_id"], group["name"], group["lead_time_days"]) == (
        supplier_id,
        "Acme",
        5,
    )
    lines = _lines(body)
    assert set(lines) == {("NUT", "RPA")}  # RPB's 30 is above its reorder point of 20
    nut = lines[("NUT", "RPA")]
    assert (nut["reorder_point"], nut["order_up_to"], nut["position"]) == (20, 48, 0)
    assert nut["quantity"] == 50  # 48 short: above the MOQ of 25, in packs of 10
    assert "order 48" in nut["reason"]
    assert "packs of 10" in nut["reason"]
    assert float(nut["cost"]) == 125.0
    assert float(group["total"]) == 125.0
    every = client.get(URL, params={"all": "true"}, headers=tenant.headers).json()
    assert set(_lines(every)) == {("NUT", "RPA"), ("NUT", "RPB")}


def test_a_location_with_excess_covers_another_before_buying(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    _network(api_uow, tenant, {"BOLT": {"RPA": 10, "RPB": 200}})
    _supplier(client, tenant, ["BOLT"])
    body = client.get(URL, params={"all": "true"}, headers=tenant.headers).json()
    [transfer] = body["transfers"]
    assert (transfer["sku"], transfer["from_location"], transfer["to_location"]) == (
        "BOLT",
        "RPB",
        "RPA",
    )
    assert transfer["quantity"] == 38  # RPA: 10 up to 48; RPB keeps 162, above its 48
    assert "before buying" in transfer["reason"]
    lines = _lines(body)
    assert lines[("BOLT", "RPA")]["quantity"] == 0
    assert lines[("BOLT", "RPA")]["reason"].startswith("after transfers in of 38")
    assert lines[("BOLT", "RPB")]["quantity"] == 0
    # Nothing to buy: a draft purchase order is refused.
    [group] = body["suppliers"]
    assert_problem(
        client.post(f"{URL}/{group['supplier_id']}/draft-po", headers=tenant.headers), 409
    )


def test_a_suppliers_suggestions_become_draft_purchase_orders_in_one_call(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    _network(api_uow, tenant, {"NUT": {"RPA": 0, "RPB": 5}, "WASHER": {"RPA": 100, "RPB": 2}})
    supplier_id = _supplier(client, tenant, ["NUT", "WASHER"])
    made = client.post(f"{URL}/{supplier_id}/draft-po", headers=tenant.headers)
    assert made.status_code == 201, made.text
    pos = made.json()["purchase_orders"]
    assert [po["location"] for po in pos] == ["RPA", "RPB"]
    assert all(po["status"] == "draft" and po["supplier_id"] == supplier_id for po in pos)
    by_location = {
        po["location"]: {line["sku"]: line["quantity"] for line in po["lines"]} for po in pos
    }
    # WASHER at RPB: 2 on hand, RPA's 100 is 52 above its 48: a transfer, not a purchase.
    assert by_location == {"RPA": {"NUT": 50}, "RPB": {"NUT": 50}}
    fetched = client.get(f"/v1/purchase-orders/{pos[0]['id']}", headers=tenant.headers)
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "draft"
    # The drafts are stock on order now: nothing more to buy, and asking again is refused.
    again = client.get(URL, params={"all": "true"}, headers=tenant.headers).json()
    assert _lines(again)[("NUT", "RPA")]["position"] == 50
    assert all(line["quantity"] == 0 for line in _lines(again).values())
    assert_problem(client.post(f"{URL}/{supplier_id}/draft-po", headers=tenant.headers), 409)


def test_linking_refuses_unknown_suppliers_and_skus(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    add_product(api_uow, tenant.id, "LINKED")
    supplier_id = _supplier(client, tenant, ["LINKED"])
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(
        client.put(
            f"/v1/suppliers/{unknown}/skus/LINKED", json={"unit_cost": "1"}, headers=tenant.headers
        ),
        404,
    )
    assert_problem(
        client.put(
            f"/v1/suppliers/{supplier_id}/skus/NOPE",
            json={"unit_cost": "1"},
            headers=tenant.headers,
        ),
        422,
    )
    assert_problem(client.post(f"{URL}/{unknown}/draft-po", headers=tenant.headers), 404)


def test_a_unit_cost_finer_than_the_suppliers_currency_is_refused(
    client: TestClient, api_uow: SqlUnitOfWorkFactory, tenant: ApiTenant
) -> None:
    add_product(api_uow, tenant.id, "YEN")
    created = client.post(
        "/v1/suppliers",
        json={"name": "Tokyo", "lead_time_days": 9, "moq": 1, "pack_size": 1, "currency": "JPY"},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    at = f"/v1/suppliers/{created.json()['id']}/skus/YEN"
    body = assert_problem(client.put(at, json={"unit_cost": "1.5"}, headers=tenant.headers), 422)
    assert [e["pointer"] for e in body["errors"]] == ["#/unit_cost"]
    assert client.put(at, json={"unit_cost": "150"}, headers=tenant.headers).status_code == 200
