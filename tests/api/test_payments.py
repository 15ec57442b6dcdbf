"""Payments over HTTP: authorize, capture, refund and void, their limits, gateway answers and
idempotency, each with exactly the timeline events it should add."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from tests.api.order_support import (
    PAID,
    SYSTEM_ACTOR,
    Timeline,
    actor_of,
    clean_order,
    open_hold_reasons,
    paid_order,
    stock_shop,
)
from tests.api.support import ApiTenant, TestClient, assert_problem, create_product

CARD_APPROVED = {"gateway": "test", "token": "tok_approve"}


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _pay(
    client: TestClient,
    tenant: ApiTenant,
    order_id: str,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> Any:
    headers = {**tenant.headers, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/v1/orders/{order_id}/payments/{action}", headers=headers, json=body)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def _authorized_order(client: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    """A 50.00 EUR order authorized by card at intake, so released for fulfilment."""
    order = clean_order(client, tenant, payment=CARD_APPROVED)
    assert (order["payment_status"], order["total"]) == ("authorized", "50.00")
    return order


def _payments(order: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(p["kind"], p["amount"], p["outcome"]) for p in order["payments"]]


# --- authorize -----------------------------------------------------------------------------


def test_authorizing_an_unpaid_order_with_a_valid_address_releases_it_for_fulfilment(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = clean_order(client, shop)
    assert open_hold_reasons(order) == ["payment_pending"]
    timeline = Timeline(client, shop, order["id"])

    paid = _ok(_pay(client, shop, order["id"], "authorize", CARD_APPROVED))

    key = actor_of(api_uow, shop)
    events = timeline.new_events()
    assert [(e["type"], e["actor"]) for e in events] == [
        ("payment.authorized", key),
        ("hold.released", SYSTEM_ACTOR),
        ("order.released", SYSTEM_ACTOR),
        ("fulfillment_order.created", SYSTEM_ACTOR),
    ]
    [payment] = paid["payments"]
    assert (payment["kind"], payment["amount"], payment["outcome"], payment["gateway"]) == (
        "authorization",
        "50.00",
        "succeeded",
        "test",
    )
    created = datetime.fromisoformat(payment["created_at"])
    assert datetime.fromisoformat(payment["expires_at"]) - created == timedelta(days=7)
    assert events[0]["data"]["payment_id"] == payment["id"]
    assert (events[0]["data"]["amount"], events[0]["data"]["outcome"]) == ("50.00", "succeeded")
    assert events[0]["data"]["after"]["payment_status"] == "authorized"
    assert (paid["status"], paid["payment_status"]) == ("open", "authorized")
    assert paid["released_at"] is not None
    assert open_hold_reasons(paid) == []


@pytest.mark.parametrize(
    ("token", "event", "outcome", "message"),
    [
        ("tok_decline", "payment.declined", "declined", "card declined"),
        ("tok_error", "payment.failed", "failed", "gateway error"),
        ("tok_no_such_card", "payment.failed", "failed", "unknown test token 'tok_no_such_card'"),
    ],
)
def test_an_authorization_the_gateway_refuses_is_recorded_and_the_order_keeps_waiting(
    client: TestClient, shop: ApiTenant, token: str, event: str, outcome: str, message: str
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    refused = _ok(_pay(client, shop, order["id"], "authorize", {"gateway": "test", "token": token}))

    [new] = timeline.new_events()
    assert (new["type"], new["reason"], new["data"]["outcome"]) == (event, message, outcome)
    assert _payments(refused) == [("authorization", "50.00", outcome)]
    assert refused["payments"][0]["message"] == message
    assert (refused["status"], refused["payment_status"]) == ("on_hold", "pending")
    assert refused["released_at"] is None
    assert open_hold_reasons(refused) == ["payment_pending"]


def test_a_good_card_after_a_declined_one_releases_the_order(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop)
    _ok(_pay(client, shop, order["id"], "authorize", {"gateway": "test", "token": "tok_decline"}))
    timeline = Timeline(client, shop, order["id"])

    paid = _ok(_pay(client, shop, order["id"], "authorize", CARD_APPROVED))

    assert timeline.new_types() == [
        "payment.authorized",
        "hold.released",
        "order.released",
        "fulfillment_order.created",
    ]
    assert _payments(paid) == [
        ("authorization", "50.00", "declined"),
        ("authorization", "50.00", "succeeded"),
    ]


def test_an_authorization_short_of_the_total_does_not_release_the_order(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    partly = _ok(_pay(client, shop, order["id"], "authorize", {**CARD_APPROVED, "amount": "20"}))

    assert timeline.new_types() == ["payment.authorized"]
    assert (partly["payment_status"], partly["released_at"]) == ("pending", None)
    assert open_hold_reasons(partly) == ["payment_pending"]


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"gateway": "stripe"}, "invalid_request", "#/gateway"),
        ({}, "invalid_request", "#/gateway"),
        ({"gateway": "test", "amount": "10.005"}, "invalid_request", "#/amount"),
        ({"gateway": "test", "amount": "0"}, "validation_failed", "#/amount"),
        ({"gateway": "test", "amount": "-5"}, "validation_failed", "#/amount"),
        ({"gateway": "test", "card": "4242"}, "validation_failed", "#/card"),
    ],
    ids=["unknown gateway", "no gateway", "too many decimals", "zero", "negative", "unknown"],
)
def test_a_malformed_authorization_is_refused_with_a_pointer_and_changes_nothing(
    client: TestClient, shop: ApiTenant, body: dict[str, Any], code: str, pointer: str
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    problem = assert_problem(_pay(client, shop, order["id"], "authorize", body), 422, code)

    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert timeline.new_types() == []


def test_a_cancelled_order_cannot_be_authorized(client: TestClient, shop: ApiTenant) -> None:
    order = clean_order(client, shop)
    assert client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.headers).status_code == 200
    timeline = Timeline(client, shop, order["id"])

    assert_problem(_pay(client, shop, order["id"], "authorize", CARD_APPROVED), 409)

    assert timeline.new_types() == []


@pytest.mark.parametrize("action", ["authorize", "capture", "refund", "void"])
def test_paying_an_unknown_order_is_404(client: TestClient, shop: ApiTenant, action: str) -> None:
    response = _pay(client, shop, "00000000-0000-7000-8000-000000000000", action, CARD_APPROVED)

    assert_problem(response, 404, "not_found")


# --- capture -------------------------------------------------------------------------------


def test_capturing_the_authorization_marks_the_order_paid(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = _authorized_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    captured = _ok(_pay(client, shop, order["id"], "capture"))

    assert [(e["type"], e["actor"]) for e in timeline.new_events()] == [
        ("payment.captured", actor_of(api_uow, shop))
    ]
    authorization, capture = captured["payments"]
    assert (capture["kind"], capture["amount"], capture["outcome"]) == (
        "capture",
        "50.00",
        "succeeded",
    )
    assert capture["parent_id"] == authorization["id"]
    assert captured["payment_status"] == "paid"


def test_partial_captures_add_up_to_the_authorized_amount(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _authorized_order(client, shop)

    first = _ok(_pay(client, shop, order["id"], "capture", {"amount": "20.00"}))
    rest = _ok(_pay(client, shop, order["id"], "capture", {"amount": "30.00"}))

    assert first["payment_status"] == "partially_paid"
    assert rest["payment_status"] == "paid"
    assert _payments(rest)[1:] == [
        ("capture", "20.00", "succeeded"),
        ("capture", "30.00", "succeeded"),
    ]


@pytest.mark.parametrize(
    ("captured_before", "capture", "capturable"),
    [
        ([], "50.01", "50.00"),
        ([], "80.00", "50.00"),
        (["20.00"], "40.00", "30.00"),
        (["20.00", "30.00"], "0.01", "0.00"),
        (["50.00"], None, "0.00"),
    ],
    ids=[
        "a cent over",
        "far over",
        "over what is left",
        "after a full capture",
        "the rest after a full capture",
    ],
)
def test_capturing_more_than_is_authorized_is_409_and_changes_nothing(
    client: TestClient,
    shop: ApiTenant,
    captured_before: list[str],
    capture: str | None,
    capturable: str,
) -> None:
    order = _authorized_order(client, shop)
    for amount in captured_before:
        _ok(_pay(client, shop, order["id"], "capture", {"amount": amount}))
    timeline = Timeline(client, shop, order["id"])

    response = _pay(client, shop, order["id"], "capture", {"amount": capture} if capture else {})

    problem = assert_problem(response, 409, "illegal_transition")
    assert Decimal(problem["capturable"]) == Decimal(capturable)
    assert timeline.new_types() == []


def test_capturing_an_order_nothing_was_authorized_for_is_409(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    assert_problem(_pay(client, shop, order["id"], "capture"), 409, "illegal_transition")

    assert timeline.new_types() == []


@pytest.mark.parametrize("amount", [{"amount": "50.00"}, {}], ids=["50.00", "what is left"])
def test_capturing_a_voided_authorization_by_its_id_is_409(
    client: TestClient, shop: ApiTenant, amount: dict[str, str]
) -> None:
    order = _authorized_order(client, shop)
    authorization = order["payments"][0]["id"]
    _ok(_pay(client, shop, order["id"], "void"))
    timeline = Timeline(client, shop, order["id"])

    response = _pay(client, shop, order["id"], "capture", {"parent_id": authorization, **amount})

    assert_problem(response, 409, "illegal_transition")
    assert timeline.new_types() == []


# --- refund --------------------------------------------------------------------------------


def test_refunds_give_back_part_then_all_of_the_capture(
    client: TestClient, shop: ApiTenant
) -> None:
    order = paid_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    part = _ok(_pay(client, shop, order["id"], "refund", {"amount": "10.00"}))
    # What is kept no longer covers the total, so the unshipped order waits for payment again.
    assert timeline.new_types() == ["payment.refunded", "hold.placed", "fulfillment_order.on_hold"]
    timeline = Timeline(client, shop, order["id"])
    rest = _ok(_pay(client, shop, order["id"], "refund"))
    assert timeline.new_types() == ["payment.refunded"]

    assert part["payment_status"] == "partially_refunded"
    assert rest["payment_status"] == "refunded"
    capture = rest["payments"][1]
    assert [(p["kind"], p["amount"], p["parent_id"]) for p in rest["payments"][2:]] == [
        ("refund", "10.00", capture["id"]),
        ("refund", "40.00", capture["id"]),
    ]


@pytest.mark.parametrize(
    ("refunded_before", "refund", "refundable"),
    [
        ([], "50.01", "50.00"),
        (["10.00"], "45.00", "40.00"),
        (["10.00", "40.00"], "0.01", "0.00"),
    ],
    ids=["a cent over the capture", "over what is left", "after a full refund"],
)
def test_refunding_more_than_was_captured_is_409_and_changes_nothing(
    client: TestClient,
    shop: ApiTenant,
    refunded_before: list[str],
    refund: str,
    refundable: str,
) -> None:
    order = paid_order(client, shop)
    for amount in refunded_before:
        _ok(_pay(client, shop, order["id"], "refund", {"amount": amount}))
    timeline = Timeline(client, shop, order["id"])

    response = _pay(client, shop, order["id"], "refund", {"amount": refund})

    problem = assert_problem(response, 409, "illegal_transition")
    assert Decimal(problem["refundable"]) == Decimal(refundable)
    assert timeline.new_types() == []


def test_refunding_an_order_nothing_was_captured_for_is_409(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _authorized_order(client, shop)

    assert_problem(_pay(client, shop, order["id"], "refund"), 409, "illegal_transition")


# --- void ----------------------------------------------------------------------------------


def test_voiding_the_authorization_puts_the_order_back_on_a_payment_hold(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = _authorized_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    voided = _ok(_pay(client, shop, order["id"], "void"))

    assert [(e["type"], e["actor"]) for e in timeline.new_events()] == [
        ("payment.voided", actor_of(api_uow, shop)),
        ("hold.placed", SYSTEM_ACTOR),
        ("fulfillment_order.on_hold", SYSTEM_ACTOR),
    ]
    assert (voided["status"], voided["payment_status"]) == ("on_hold", "voided")
    assert open_hold_reasons(voided) == ["payment_pending"]


@pytest.mark.parametrize("by_id", [False, True], ids=["every open one", "by its id"])
def test_voiding_after_a_full_capture_is_409(
    client: TestClient, shop: ApiTenant, by_id: bool
) -> None:
    order = _authorized_order(client, shop)
    _ok(_pay(client, shop, order["id"], "capture"))
    timeline = Timeline(client, shop, order["id"])
    body = {"parent_id": order["payments"][0]["id"]} if by_id else None

    assert_problem(_pay(client, shop, order["id"], "void", body), 409, "illegal_transition")

    assert timeline.new_types() == []


# --- idempotency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "action", "body", "kinds"),
    [
        ("unpaid", "authorize", CARD_APPROVED, ["authorization"]),
        ("authorized", "capture", {"amount": "10.00"}, ["authorization", "capture"]),
        ("paid", "refund", {"amount": "10.00"}, ["authorization", "capture", "refund"]),
        ("authorized", "void", None, ["authorization", "void"]),
    ],
    ids=["authorize", "capture", "refund", "void"],
)
def test_repeating_a_payment_call_with_its_idempotency_key_records_it_once(
    client: TestClient,
    shop: ApiTenant,
    start: str,
    action: str,
    body: dict[str, Any] | None,
    kinds: list[str],
) -> None:
    order = {
        "unpaid": clean_order,
        "authorized": _authorized_order,
        "paid": paid_order,
    }[start](client, shop)
    first = _ok(_pay(client, shop, order["id"], action, body, key=f"{action}-1"))
    timeline = Timeline(client, shop, order["id"])

    again = _ok(_pay(client, shop, order["id"], action, body, key=f"{action}-1"))

    assert timeline.new_types() == []
    assert [p["kind"] for p in again["payments"]] == kinds
    assert again["payments"] == first["payments"]
    assert (again["status"], again["payment_status"]) == (first["status"], first["payment_status"])


def test_another_idempotency_key_is_another_payment(client: TestClient, shop: ApiTenant) -> None:
    order = _authorized_order(client, shop)
    _ok(_pay(client, shop, order["id"], "capture", {"amount": "10.00"}, key="first"))
    timeline = Timeline(client, shop, order["id"])

    second = _ok(_pay(client, shop, order["id"], "capture", {"amount": "10.00"}, key="second"))

    assert timeline.new_types() == ["payment.captured"]
    assert _payments(second)[1:] == [
        ("capture", "10.00", "succeeded"),
        ("capture", "10.00", "succeeded"),
    ]


def test_stock_that_releases_a_backordered_order_captures_its_digital_lines_at_once(
    client: TestClient, shop: ApiTenant
) -> None:
    create_product(client, shop, "GIFT", price="20.00", kind="digital")
    create_product(client, shop, "RARE", price="30.00")
    waiting = clean_order(client, shop, ("RARE", 1), ("GIFT", 1), payment=CARD_APPROVED)
    assert open_hold_reasons(waiting) == ["backordered"]
    assert (waiting["payment_status"], waiting["total"]) == ("authorized", "50.00")

    arrived = client.post(
        "/v1/inventory/adjustments",
        headers=shop.headers,
        json={"sku": "RARE", "location": "WH", "delta": 2, "reason": "delivery"},
    )
    assert arrived.status_code == 201, arrived.text

    order = client.get(f"/v1/orders/{waiting['id']}", headers=shop.headers).json()
    assert order["released_at"] is not None
    gift = next(line for line in order["lines"] if line["sku"] == "GIFT")
    assert gift["quantities"]["delivered"] == 1
    # The gift card went out on release: its 20.00 is taken now, the rest with the parcel.
    assert order["payment_status"] == "partially_paid"
    assert _payments(order)[-1] == ("capture", "20.00", "succeeded")


# --- money the order no longer owes ----------------------------------------------------------


def _refund_due_queue(client: TestClient, tenant: ApiTenant) -> list[dict[str, Any]]:
    response = client.get("/v1/holds", headers=tenant.headers, params={"reason": "refund_due"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_cancelled_paid_order_shows_what_it_is_owed_back_until_that_is_refunded(
    client: TestClient, shop: ApiTenant
) -> None:
    order = paid_order(client, shop)

    cancelled = _ok(client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.headers))

    assert (cancelled["total"], cancelled["payment_status"], cancelled["refund_due"]) == (
        "0.00",
        "paid",
        "50.00",
    )
    (item,) = _refund_due_queue(client, shop)
    assert (item["order_id"], item["note"]) == (order["id"], "50.00 EUR captured beyond the total")
    kept = client.post(
        f"/v1/orders/{order['id']}/holds/{item['id']}/release",
        headers=shop.headers,
        json={"note": "we keep it"},
    )
    assert_problem(kept, 409, "illegal_transition")
    raised = client.post(
        f"/v1/orders/{order['id']}/holds", headers=shop.headers, json={"reason": "refund_due"}
    )
    assert assert_problem(raised, 422)["errors"][0]["pointer"] == "#/reason"

    refunded = _ok(_pay(client, shop, order["id"], "refund"))

    assert (refunded["payment_status"], refunded["refund_due"]) == ("refunded", "0.00")
    assert _refund_due_queue(client, shop) == []


def test_with_the_refund_policy_a_cancelled_paid_order_is_refunded_at_once(
    client: TestClient, shop: ApiTenant
) -> None:
    policy = client.put("/v1/policies", headers=shop.headers, json={"overpayment": "refund"})
    assert policy.status_code == 200, policy.text
    assert policy.json()["overpayment"] == "refund"
    order = paid_order(client, shop)

    cancelled = _ok(client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.headers))

    assert (cancelled["payment_status"], cancelled["refund_due"]) == ("refunded", "0.00")
    assert ("refund", "50.00", "succeeded") in _payments(cancelled)
    assert _refund_due_queue(client, shop) == []


def test_authorizing_an_order_an_edit_left_overpaid_is_409_not_a_negative_amount(
    client: TestClient, shop: ApiTenant
) -> None:
    # Paid, but held for its address: still editable.
    order = clean_order(client, shop, ("TEE", 1), ("MUG", 2), shipping_address=None, payment=PAID)
    assert order["total"] == "60.00"
    edited = client.patch(
        f"/v1/orders/{order['id']}",
        headers={**shop.headers, "If-Match": f'"{order["version"]}"'},
        json={"lines": [{"line_no": 1, "quantity": 0}]},
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["total"], edited.json()["refund_due"]) == ("10.00", "50.00")

    refused = _pay(client, shop, order["id"], "authorize", CARD_APPROVED)

    body = assert_problem(refused, 409, "illegal_transition")
    assert "owes nothing" in body["detail"]
