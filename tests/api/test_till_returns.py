"""Returns at the till: POST /v1/orders/{order_id}/till-returns takes units back at a store
and pays them back in one call, exactly once per return receipt, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.payments.registry import gateway_named
from oms.domain.orders import Actor
from oms.domain.returns import ReturnStatus, WantedLine
from oms.services import returns
from tests.api.support import (
    ApiTenant,
    TestClient,
    assert_problem,
    create_location,
    create_product,
    order_body,
    set_on_hand,
    stock_of,
)

STAFF = Actor("api_key", "till")


@pytest.fixture
def store(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    """A tenant with a store (STORE-1: 5 tees at 20.00, 2 caps at 7.50)."""
    create_location(client, tenant, "STORE-1")
    create_product(client, tenant, "TEE", price="20.00")
    create_product(client, tenant, "CAP", price="7.50")
    set_on_hand(client, tenant, "TEE", "STORE-1", 5)
    set_on_hand(client, tenant, "CAP", "STORE-1", 2)
    return tenant


def _sale(client: TestClient, store: ApiTenant, receipt: str) -> dict[str, Any]:
    body = order_body(
        ("TEE", 2), ("CAP", 1), channel="pos", external_id=receipt, store_location="STORE-1"
    )
    made = client.post("/v1/orders", headers=store.headers, json=body)
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def _till_return(
    client: TestClient, store: ApiTenant, order: dict[str, Any], receipt: str, **extra: Any
) -> Any:
    body = {
        "receipt_id": receipt,
        "store_location": "STORE-1",
        "lines": [{"line_no": 1, "quantity": 1, "reason": "changed_mind"}],
        **extra,
    }
    return client.post(f"/v1/orders/{order['id']}/till-returns", headers=store.headers, json=body)


def _store_on_hand(client: TestClient, store: ApiTenant, sku: str) -> int:
    found = stock_of(client, store, sku)["locations"]
    on_hand: int = next(loc["on_hand"] for loc in found if loc["location"] == "STORE-1")
    return on_hand


def _refunds(client: TestClient, store: ApiTenant, order: dict[str, Any]) -> list[Decimal]:
    now = client.get(f"/v1/orders/{order['id']}", headers=store.headers).json()
    return [
        Decimal(p["amount"])
        for p in now["payments"]
        if p["kind"] == "refund" and p["outcome"] == "succeeded"
    ]


def test_a_till_return_is_taken_back_restocked_and_refunded_in_one_call(
    client: TestClient, store: ApiTenant
) -> None:
    order = _sale(client, store, "R-10")

    answer = _till_return(client, store, order, "RET-10")

    assert answer.status_code == 201, answer.text
    found = answer.json()
    assert (found["status"], found["refund_amount"]) == ("refunded", "20.00")
    assert _store_on_hand(client, store, "TEE") == 4  # 5 - 2 sold + 1 back
    assert _refunds(client, store, order) == [Decimal("20.00")]
    history = client.get(f"/v1/returns/{found['id']}", headers=store.headers).json()
    assert history["status"] == "refunded"


def test_the_same_receipt_again_is_the_same_return_and_pays_once(
    client: TestClient, store: ApiTenant
) -> None:
    order = _sale(client, store, "R-11")

    first = _till_return(client, store, order, "RET-11")
    again = _till_return(client, store, order, "RET-11")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert _store_on_hand(client, store, "TEE") == 4
    assert _refunds(client, store, order) == [Decimal("20.00")]


def test_a_call_cut_short_between_steps_is_finished_by_the_repeat(
    client: TestClient, store: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = _sale(client, store, "R-12")
    # The first call got as far as the request (approved by the staff) and no further.
    request, _ = returns.request_return(
        uow_factory=api_uow,
        tenant_id=store.id,
        order_id=UUID(order["id"]),
        command=returns.NewReturn(lines=(WantedLine(1, 1, "changed_mind"),)),
        actor=STAFF,
        idempotency_key="till-return:RET-12",
        gateways=gateway_named,
    )
    if request.status is ReturnStatus.REQUESTED:
        returns.approve_return(
            uow_factory=api_uow, tenant_id=store.id, return_id=request.id, actor=STAFF
        )

    again = _till_return(client, store, order, "RET-12")

    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["status"]) == (str(request.id), "refunded")
    assert _store_on_hand(client, store, "TEE") == 4
    assert _refunds(client, store, order) == [Decimal("20.00")]


def test_quarantined_units_come_back_refunded_but_are_not_sellable(
    client: TestClient, store: ApiTenant
) -> None:
    order = _sale(client, store, "R-13")
    lines = [{"line_no": 2, "quantity": 1, "reason": "defective", "disposition": "quarantine"}]

    answer = _till_return(client, store, order, "RET-13", lines=lines)

    assert answer.status_code == 201, answer.text
    assert (answer.json()["status"], answer.json()["refund_amount"]) == ("refunded", "7.50")
    assert _store_on_hand(client, store, "CAP") == 1  # 2 - 1 sold; the one back is held
    assert _refunds(client, store, order) == [Decimal("7.50")]


def test_store_credit_for_a_sale_without_a_customer_is_refused_before_anything_is_taken(
    client: TestClient, store: ApiTenant
) -> None:
    order = _sale(client, store, "R-16")

    answer = _till_return(client, store, order, "RET-16", resolution="store_credit")

    assert_problem(answer, 409)
    listed = client.get("/v1/returns", headers=store.headers, params={"order_id": order["id"]})
    assert listed.json()["items"] == []
    assert _store_on_hand(client, store, "TEE") == 3


@pytest.mark.parametrize(
    ("extra", "status"),
    [
        ({"resolution": "exchange"}, 422),
        ({"receipt_id": ""}, 422),
        ({"lines": [{"line_no": 1, "quantity": 3, "reason": "changed_mind"}]}, 422),
        ({"lines": [{"line_no": 1, "quantity": 1, "reason": "no_such_reason"}]}, 422),
        ({"store_location": "NOWHERE"}, 422),
    ],
)
def test_a_till_return_that_may_not_be_is_refused_and_pays_nothing(
    client: TestClient, store: ApiTenant, extra: dict[str, Any], status: int
) -> None:
    order = _sale(client, store, f"R-14-{status}-{len(extra)}")

    answer = _till_return(client, store, order, f"RET-14-{id(extra)}", **extra)

    assert_problem(answer, status)
    listed = client.get("/v1/returns", headers=store.headers, params={"order_id": order["id"]})
    assert listed.json()["items"] == []  # nothing opened
    assert _refunds(client, store, order) == []
    assert _store_on_hand(client, store, "TEE") == 3


@pytest.mark.postgres
def test_five_tills_sending_the_same_receipt_at_once_make_one_return_and_one_refund(
    client: TestClient, store: ApiTenant, api_engine: Any
) -> None:
    if api_engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are a PostgreSQL matter")
    order = _sale(client, store, "R-15")

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: _till_return(client, store, order, "RET-15"), range(5)))

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert {a.json()["status"] for a in answers} == {"refunded"}
    assert _store_on_hand(client, store, "TEE") == 4
    assert _refunds(client, store, order) == [Decimal("20.00")]
