"""Every mutating call appends exactly the expected timeline events, by the expected actor.

Each case starts an order in some state, reads its timeline, makes one call and compares the
events the call added with the table: the API key's own events, the system's follow-ups
(holds it places or lifts, releasing for fulfilment), and nothing at all for repeats and for
refused calls. Every event is numbered, timed, attributed, and carries the statuses before and
after it, which chain from one event to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from tests.api.order_support import (
    PAID,
    SYSTEM_ACTOR,
    VALID_ADDRESS,
    Timeline,
    actor_of,
    assert_timeline_well_formed,
    clean_order,
    events_of,
    paid_order,
    stock_shop,
)
from tests.api.support import ApiTenant, TestClient, assert_problem, order_body

Order = dict[str, Any]
KEY, SYSTEM = "key", "system"


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _post(
    client: TestClient, tenant: ApiTenant, path: str, body: Any = None, **headers: str
) -> Any:
    return client.post(path, headers={**tenant.headers, **headers}, json=body)


# --- starting points -----------------------------------------------------------------------


def _unpaid(client: TestClient, tenant: ApiTenant) -> Order:
    """Valid address, no payment: on a payment_pending hold."""
    return clean_order(client, tenant)


def _paid(client: TestClient, tenant: ApiTenant) -> Order:
    """Valid address, paid: released for fulfilment."""
    return paid_order(client, tenant)


def _authorized(client: TestClient, tenant: ApiTenant) -> Order:
    return clean_order(client, tenant, payment={"gateway": "test", "token": "tok_approve"})


def _paid_in_fraud_review(client: TestClient, tenant: ApiTenant) -> Order:
    """Valid and paid, but above a risk rule's value: its only hold is fraud_review."""
    rule = {"kind": "order_value_above", "params": {"amount": "10", "currency": "EUR"}}
    assert _post(client, tenant, "/v1/risk-rules", rule).status_code == 201
    return paid_order(client, tenant)


def _paid_with_two_holds(client: TestClient, tenant: ApiTenant) -> Order:
    order = _paid_in_fraud_review(client, tenant)
    assert _post(client, tenant, f"/v1/orders/{order['id']}/holds", {}).status_code == 201
    return order


def _paid_with_a_manual_hold(client: TestClient, tenant: ApiTenant) -> Order:
    order = paid_order(client, tenant)
    assert _post(client, tenant, f"/v1/orders/{order['id']}/holds", {}).status_code == 201
    return order


def _cancelled(client: TestClient, tenant: ApiTenant) -> Order:
    order = clean_order(client, tenant)
    assert _post(client, tenant, f"/v1/orders/{order['id']}/cancel").status_code == 200
    return order


def _authorized_with_key(client: TestClient, tenant: ApiTenant) -> Order:
    order = clean_order(client, tenant)
    path = f"/v1/orders/{order['id']}/payments/authorize"
    body = {"gateway": "test"}
    assert _post(client, tenant, path, body, **{"Idempotency-Key": "auth-1"}).status_code == 200
    return order


# --- calls ---------------------------------------------------------------------------------

Call = Callable[[TestClient, ApiTenant, Order], Any]


def _pay(action: str, body: dict[str, Any] | None = None, key: str | None = None) -> Call:
    def call(client: TestClient, tenant: ApiTenant, order: Order) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return _post(client, tenant, f"/v1/orders/{order['id']}/payments/{action}", body, **headers)

    return call


def _hold(reason: str) -> Call:
    def call(client: TestClient, tenant: ApiTenant, order: Order) -> Any:
        return _post(client, tenant, f"/v1/orders/{order['id']}/holds", {"reason": reason})

    return call


def _release_first_open_hold(body: dict[str, Any] | None) -> Call:
    def call(client: TestClient, tenant: ApiTenant, order: Order) -> Any:
        current = client.get(f"/v1/orders/{order['id']}", headers=tenant.headers).json()
        hold = next(h for h in current["holds"] if h["released_at"] is None)
        return _post(client, tenant, f"/v1/orders/{order['id']}/holds/{hold['id']}/release", body)

    return call


def _cancel(client: TestClient, tenant: ApiTenant, order: Order) -> Any:
    return _post(client, tenant, f"/v1/orders/{order['id']}/cancel", {"reason": "changed mind"})


def _edit(body: dict[str, Any], if_match: str) -> Call:
    def call(client: TestClient, tenant: ApiTenant, order: Order) -> Any:
        headers = {**tenant.headers, "If-Match": if_match}
        return client.patch(f"/v1/orders/{order['id']}", headers=headers, json=body)

    return call


@dataclass(frozen=True)
class Case:
    name: str
    start: Callable[[TestClient, ApiTenant], Order]
    call: Call
    status: int
    expected: list[tuple[str, str]]


CASES = [
    Case(
        "placing a hold",
        _paid,
        _hold("manual"),
        201,
        [("hold.placed", KEY), ("fulfillment_order.on_hold", SYSTEM)],
    ),
    Case("placing the same hold reason twice", _paid_with_a_manual_hold, _hold("manual"), 200, []),
    Case(
        "releasing the last hold of a paid, valid order",
        _paid_in_fraud_review,
        _release_first_open_hold({"note": "checked"}),
        200,
        [("hold.released", KEY), ("order.released", SYSTEM), ("fulfillment_order.created", SYSTEM)],
    ),
    Case(
        "releasing one of two holds",
        _paid_with_two_holds,
        _release_first_open_hold({"note": "checked"}),
        200,
        [("hold.released", KEY)],
    ),
    Case(
        "authorizing an unpaid order with a valid address",
        _unpaid,
        _pay("authorize", {"gateway": "test", "token": "tok_approve"}),
        200,
        [
            ("payment.authorized", KEY),
            ("hold.released", SYSTEM),
            ("order.released", SYSTEM),
            ("fulfillment_order.created", SYSTEM),
        ],
    ),
    Case(
        "a declined authorization",
        _unpaid,
        _pay("authorize", {"gateway": "test", "token": "tok_decline"}),
        200,
        [("payment.declined", KEY)],
    ),
    Case(
        "a failed authorization",
        _unpaid,
        _pay("authorize", {"gateway": "test", "token": "tok_error"}),
        200,
        [("payment.failed", KEY)],
    ),
    Case(
        "authorizing again with the same idempotency key",
        _authorized_with_key,
        _pay("authorize", {"gateway": "test"}, key="auth-1"),
        200,
        [],
    ),
    Case("capturing", _authorized, _pay("capture"), 200, [("payment.captured", KEY)]),
    Case(
        "refunding part of a paid order",
        _paid,
        _pay("refund", {"amount": "10.00"}),
        200,
        [("payment.refunded", KEY), ("hold.placed", SYSTEM), ("fulfillment_order.on_hold", SYSTEM)],
    ),
    Case(
        "voiding the authorization",
        _authorized,
        _pay("void"),
        200,
        [("payment.voided", KEY), ("hold.placed", SYSTEM), ("fulfillment_order.on_hold", SYSTEM)],
    ),
    Case("cancelling", _unpaid, _cancel, 200, [("order.cancelled", KEY)]),
    Case("cancelling twice", _cancelled, _cancel, 200, []),
    Case(
        "editing a line",
        _unpaid,
        _edit({"lines": [{"line_no": 1, "quantity": 2}]}, '"1"'),
        200,
        [("order.edited", KEY)],
    ),
    Case(
        "capturing more than is authorized", _authorized, _pay("capture", {"amount": "60"}), 409, []
    ),
    Case("refunding more than was captured", _paid, _pay("refund", {"amount": "60"}), 409, []),
    Case("voiding after a full capture", _paid, _pay("void"), 409, []),
    Case(
        "authorizing a cancelled order", _cancelled, _pay("authorize", {"gateway": "test"}), 409, []
    ),
    Case(
        "a stale edit", _unpaid, _edit({"lines": [{"line_no": 1, "quantity": 2}]}, '"7"'), 412, []
    ),
    Case(
        "releasing a hold without a note",
        _paid_with_a_manual_hold,
        _release_first_open_hold({}),
        422,
        [],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_mutating_call_appends_exactly_the_expected_events(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory, case: Case
) -> None:
    order = case.start(client, shop)
    timeline = Timeline(client, shop, order["id"])

    response = case.call(client, shop, order)

    assert response.status_code == case.status, response.text
    key = actor_of(api_uow, shop)
    who = {KEY: key, SYSTEM: SYSTEM_ACTOR}
    added = timeline.new_events()
    assert [(e["type"], e["actor"]) for e in added] == [
        (kind, who[actor]) for kind, actor in case.expected
    ]
    read = client.get(f"/v1/orders/{order['id']}", headers=shop.headers).json()
    events = events_of(client, shop, order["id"])
    assert read["timeline"] == events
    assert_timeline_well_formed(events, key_actor=key)
    if added:
        assert added[-1]["data"]["after"] == {
            axis: read[axis] for axis in ("status", "fulfillment_status", "payment_status")
        }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"shipping_address": VALID_ADDRESS, "payment": PAID},
            [
                ("order.placed", KEY),
                ("payment.authorized", KEY),
                ("payment.captured", KEY),
                ("order.released", SYSTEM),
                ("fulfillment_order.created", SYSTEM),
            ],
        ),
        (
            {"shipping_address": VALID_ADDRESS},
            [("order.placed", KEY), ("hold.placed", SYSTEM)],
        ),
        (
            {
                "shipping_address": {**VALID_ADDRESS, "postal_code": "1"},
                "customer": {"email": "nobody"},
                "payment": {"gateway": "test", "token": "tok_decline"},
            },
            [
                ("order.placed", KEY),
                ("payment.declined", KEY),
                ("hold.placed", SYSTEM),
                ("hold.placed", SYSTEM),
                ("hold.placed", SYSTEM),
            ],
        ),
    ],
    ids=["paid and valid", "unpaid", "declined with bad address and email"],
)
def test_placing_an_order_records_intake_and_its_follow_ups(
    client: TestClient,
    shop: ApiTenant,
    api_uow: SqlUnitOfWorkFactory,
    fields: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    response = client.post(
        "/v1/orders", headers=shop.headers, json=order_body(("TEE", 1), **fields)
    )

    assert response.status_code == 201, response.text
    key = actor_of(api_uow, shop)
    who = {KEY: key, SYSTEM: SYSTEM_ACTOR}
    events = events_of(client, shop, response.json()["id"])
    assert [(e["type"], e["actor"]) for e in events] == [
        (kind, who[actor]) for kind, actor in expected
    ]
    assert_timeline_well_formed(events, key_actor=key)


def test_cancelling_records_the_reason_and_the_statuses_before_and_after(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop, ("TEE", 2))
    timeline = Timeline(client, shop, order["id"])

    _cancel(client, shop, order)

    [event] = timeline.new_events()
    assert (event["type"], event["reason"]) == ("order.cancelled", "changed mind")
    assert event["data"]["cancelled_units"] == {"1": 2}
    assert (event["data"]["before"], event["data"]["after"]) == (
        {"status": "on_hold", "fulfillment_status": "unfulfilled", "payment_status": "pending"},
        {"status": "cancelled", "fulfillment_status": "unfulfilled", "payment_status": "pending"},
    )


def test_the_events_of_an_unknown_order_are_404(client: TestClient, shop: ApiTenant) -> None:
    response = client.get(
        "/v1/orders/00000000-0000-7000-8000-000000000000/events", headers=shop.headers
    )

    assert_problem(response, 404, "not_found")
