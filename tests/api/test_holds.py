"""Holds over HTTP: placing and releasing them, the exceptions queue, and tenant policies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.routers import holds as holds_routes
from tests.api.order_support import (
    SYSTEM_ACTOR,
    VALID_ADDRESS,
    Timeline,
    actor_of,
    clean_order,
    open_hold_reasons,
    paid_order,
    stock_shop,
)
from tests.api.support import ApiTenant, TestClient, assert_problem, walk_pages

DEFAULT_POLICIES: dict[str, Any] = {
    "hold_sla_hours": {
        "address_invalid": 4.0,
        "awaiting_return": 720.0,
        "backordered": 168.0,
        "contact_invalid": 8.0,
        "fraud_review": 2.0,
        "manual": 24.0,
        "no_carrier_service": 4.0,
        "parcel_claim": 48.0,
        "payment_pending": 24.0,
        "refund_due": 48.0,
        "unknown_sku": 24.0,
    },
    "authorization_ttl_hours": 168.0,
    "reservation_max_ttl_minutes": 60,
    "pickup_expiry_days": 7,
    "download_link_days": 30,
    "overpayment": "review",
    "duties_terms": "DAP",
    "nightly_hour": 2,
}


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _place_hold(
    client: TestClient, tenant: ApiTenant, order_id: str, status: int = 201, **body: Any
) -> dict[str, Any]:
    response = client.post(f"/v1/orders/{order_id}/holds", headers=tenant.headers, json=body)
    assert response.status_code == status, response.text
    hold: dict[str, Any] = response.json()
    return hold


def _release(client: TestClient, tenant: ApiTenant, order_id: str, hold_id: str, note: str) -> Any:
    return client.post(
        f"/v1/orders/{order_id}/holds/{hold_id}/release",
        headers=tenant.headers,
        json={"note": note},
    )


def _paid_with_a_bad_postal_code(client: TestClient, tenant: ApiTenant) -> dict[str, Any]:
    """Paid, but held for its address (a German postal code has five digits)."""
    return paid_order(client, tenant, shipping_address={**VALID_ADDRESS, "postal_code": "5114"})


def _order(client: TestClient, tenant: ApiTenant, order_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/orders/{order_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def _queue(client: TestClient, tenant: ApiTenant, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/holds", headers=tenant.headers, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _put_policies(client: TestClient, tenant: ApiTenant, body: dict[str, Any]) -> dict[str, Any]:
    response = client.put("/v1/policies", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.text
    policies: dict[str, Any] = response.json()
    return policies


# --- placing holds -------------------------------------------------------------------------


def test_placing_a_hold_answers_201_with_reason_note_author_and_due_time(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = paid_order(client, shop)
    assert order["status"] == "open"
    timeline = Timeline(client, shop, order["id"])

    hold = _place_hold(client, shop, order["id"], reason="fraud_review", note="call the buyer")

    key = actor_of(api_uow, shop)
    assert (hold["order_id"], hold["order_number"]) == (order["id"], order["number"])
    assert (hold["reason"], hold["note"], hold["created_by"]) == (
        "fraud_review",
        "call the buyer",
        key,
    )
    assert _at(hold["due_at"]) - _at(hold["created_at"]) == timedelta(hours=2)
    assert (hold["overdue"], hold["released_at"], hold["released_by"]) == (False, None, None)
    [event, held_work] = timeline.new_events()
    assert (held_work["type"], held_work["actor"]) == ("fulfillment_order.on_hold", SYSTEM_ACTOR)
    assert (event["type"], event["actor"], event["reason"]) == (
        "hold.placed",
        key,
        "call the buyer",
    )
    assert (event["data"]["hold_id"], event["data"]["reason"]) == (hold["id"], "fraud_review")
    assert (event["data"]["before"]["status"], event["data"]["after"]["status"]) == (
        "open",
        "on_hold",
    )
    assert _order(client, shop, order["id"])["status"] == "on_hold"


def test_a_hold_without_a_reason_is_a_manual_hold_due_in_24_hours(
    client: TestClient, shop: ApiTenant
) -> None:
    order = paid_order(client, shop)

    hold = _place_hold(client, shop, order["id"])

    assert (hold["reason"], hold["note"]) == ("manual", None)
    assert _at(hold["due_at"]) - _at(hold["created_at"]) == timedelta(hours=24)


def test_placing_a_hold_of_a_reason_already_open_answers_200_with_that_hold_and_adds_nothing(
    client: TestClient, shop: ApiTenant
) -> None:
    order = paid_order(client, shop)
    first = _place_hold(client, shop, order["id"], reason="manual", note="first")
    timeline = Timeline(client, shop, order["id"])

    # Like every create that finds what it would create: 200 with it (docs/api.md).
    again = _place_hold(client, shop, order["id"], status=200, reason="manual", note="second")

    assert again == first
    assert timeline.new_types() == []
    assert [h["id"] for h in _order(client, shop, order["id"])["holds"]] == [first["id"]]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"reason": "gut_feeling"}, "#/reason"),
        ({"reason": "manual", "until": "tomorrow"}, "#/until"),
        ({"note": "   "}, "#/note"),
        ({"note": "x" * 2001}, "#/note"),
    ],
)
def test_a_malformed_hold_is_refused_with_a_pointer_and_changes_nothing(
    client: TestClient, shop: ApiTenant, body: dict[str, Any], pointer: str
) -> None:
    order = paid_order(client, shop)
    timeline = Timeline(client, shop, order["id"])

    response = client.post(f"/v1/orders/{order['id']}/holds", headers=shop.headers, json=body)

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert timeline.new_types() == []


def test_a_cancelled_order_cannot_be_put_on_hold(client: TestClient, shop: ApiTenant) -> None:
    order = paid_order(client, shop)
    assert client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.headers).status_code == 200
    timeline = Timeline(client, shop, order["id"])

    response = client.post(f"/v1/orders/{order['id']}/holds", headers=shop.headers, json={})

    assert_problem(response, 409, "illegal_transition")
    assert timeline.new_types() == []


def test_holding_an_unknown_order_is_404(client: TestClient, shop: ApiTenant) -> None:
    response = client.post(
        "/v1/orders/00000000-0000-7000-8000-000000000000/holds", headers=shop.headers, json={}
    )

    assert_problem(response, 404, "not_found")


# --- releasing holds -----------------------------------------------------------------------


def test_releasing_the_last_hold_of_a_paid_order_releases_it_for_fulfilment(
    client: TestClient, shop: ApiTenant, api_uow: SqlUnitOfWorkFactory
) -> None:
    order = _paid_with_a_bad_postal_code(client, shop)
    [hold] = order["holds"]
    assert (hold["reason"], order["released_at"]) == ("address_invalid", None)
    timeline = Timeline(client, shop, order["id"])

    response = _release(client, shop, order["id"], hold["id"], "buyer confirmed by phone")

    assert response.status_code == 200, response.text
    released = response.json()
    key = actor_of(api_uow, shop)
    assert [(e["type"], e["actor"]) for e in timeline.new_events()] == [
        ("hold.released", key),
        ("order.released", SYSTEM_ACTOR),
        ("fulfillment_order.created", SYSTEM_ACTOR),
    ]
    assert released["status"] == "open"
    assert released["released_at"] is not None
    [after] = [h for h in released["holds"] if h["id"] == hold["id"]]
    assert (after["released_by"], after["release_note"]) == (key, "buyer confirmed by phone")
    assert after["released_at"] == released["released_at"]


def test_releasing_one_of_two_holds_keeps_the_order_on_hold(
    client: TestClient, shop: ApiTenant
) -> None:
    order = _paid_with_a_bad_postal_code(client, shop)
    _place_hold(client, shop, order["id"], reason="manual")
    timeline = Timeline(client, shop, order["id"])

    released = _release(client, shop, order["id"], order["holds"][0]["id"], "it exists").json()

    assert timeline.new_types() == ["hold.released"]
    assert (released["status"], released["released_at"]) == ("on_hold", None)
    assert open_hold_reasons(released) == ["manual"]


def test_releasing_a_hold_placed_after_release_only_lifts_the_hold(
    client: TestClient, shop: ApiTenant
) -> None:
    order = paid_order(client, shop)
    hold = _place_hold(client, shop, order["id"], reason="manual")
    timeline = Timeline(client, shop, order["id"])

    released = _release(client, shop, order["id"], hold["id"], "false alarm").json()

    assert timeline.new_types() == ["hold.released", "fulfillment_order.resumed"]
    assert (released["status"], released["released_at"]) == ("open", order["released_at"])


def test_releasing_a_hold_of_an_unpaid_order_leaves_it_waiting_for_payment(
    client: TestClient, shop: ApiTenant
) -> None:
    order = clean_order(client, shop)
    assert open_hold_reasons(order) == ["payment_pending"]
    hold = _place_hold(client, shop, order["id"], reason="manual")
    timeline = Timeline(client, shop, order["id"])

    released = _release(client, shop, order["id"], hold["id"], "done").json()

    assert timeline.new_types() == ["hold.released"]
    assert (released["status"], released["released_at"]) == ("on_hold", None)
    assert open_hold_reasons(released) == ["payment_pending"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (None, "#/"),
        ({}, "#/note"),
        ({"note": "   "}, "#/note"),
        ({"note": None}, "#/note"),
    ],
    ids=["no body", "empty body", "blank note", "null note"],
)
def test_a_hold_is_only_released_with_a_note(
    client: TestClient, shop: ApiTenant, body: dict[str, Any] | None, pointer: str
) -> None:
    order = paid_order(client, shop)
    hold = _place_hold(client, shop, order["id"])
    timeline = Timeline(client, shop, order["id"])

    response = client.post(
        f"/v1/orders/{order['id']}/holds/{hold['id']}/release", headers=shop.headers, json=body
    )

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert timeline.new_types() == []
    assert open_hold_reasons(_order(client, shop, order["id"])) == ["manual"]


def test_releasing_a_released_hold_again_is_409(client: TestClient, shop: ApiTenant) -> None:
    order = paid_order(client, shop)
    first = _place_hold(client, shop, order["id"], reason="manual")
    _place_hold(client, shop, order["id"], reason="fraud_review")
    assert _release(client, shop, order["id"], first["id"], "ok").status_code == 200
    timeline = Timeline(client, shop, order["id"])

    response = _release(client, shop, order["id"], first["id"], "ok again")

    problem = assert_problem(response, 409, "illegal_transition")
    assert problem["hold_id"] == first["id"]
    assert timeline.new_types() == []


def test_a_hold_of_another_order_or_no_hold_at_all_is_404(
    client: TestClient, shop: ApiTenant
) -> None:
    order, other = paid_order(client, shop), paid_order(client, shop)
    others_hold = _place_hold(client, shop, other["id"])
    _place_hold(client, shop, order["id"])

    for hold_id in (others_hold["id"], "00000000-0000-7000-8000-000000000000"):
        assert_problem(_release(client, shop, order["id"], hold_id, "why"), 404, "not_found")
    assert open_hold_reasons(_order(client, shop, other["id"])) == ["manual"]


# --- the exceptions queue ------------------------------------------------------------------


def test_the_exceptions_queue_lists_open_holds_oldest_first_with_their_orders(
    client: TestClient, shop: ApiTenant
) -> None:
    orders = [paid_order(client, shop) for _ in range(3)]
    first = _place_hold(client, shop, orders[2]["id"], reason="manual")
    second = _place_hold(client, shop, orders[0]["id"], reason="fraud_review")
    third = _place_hold(client, shop, orders[1]["id"], reason="manual")
    fourth = _place_hold(client, shop, orders[0]["id"], reason="manual")
    assert _release(client, shop, orders[1]["id"], third["id"], "resolved").status_code == 200

    queue = _queue(client, shop)

    assert [(h["id"], h["order_id"], h["order_number"]) for h in queue] == [
        (first["id"], orders[2]["id"], orders[2]["number"]),
        (second["id"], orders[0]["id"], orders[0]["number"]),
        (fourth["id"], orders[0]["id"], orders[0]["number"]),
    ]
    assert all(h["released_at"] is None and h["overdue"] is False for h in queue)


def test_the_exceptions_queue_pages_oldest_first_to_the_end(
    client: TestClient, shop: ApiTenant
) -> None:
    holds = [_place_hold(client, shop, paid_order(client, shop)["id"])["id"] for _ in range(5)]

    pages = walk_pages(client, "/v1/holds", shop.headers, limit=2)

    assert [[h["id"] for h in page] for page in pages] == [holds[0:2], holds[2:4], holds[4:]]


@pytest.mark.parametrize(
    ("reason", "expected"), [("manual", 2), ("fraud_review", 1), ("payment_pending", 1)]
)
def test_the_exceptions_queue_filters_by_reason(
    client: TestClient, shop: ApiTenant, reason: str, expected: int
) -> None:
    unpaid = clean_order(client, shop)  # waits for payment
    _place_hold(client, shop, unpaid["id"], reason="manual")
    paid = paid_order(client, shop)
    _place_hold(client, shop, paid["id"], reason="manual")
    _place_hold(client, shop, paid["id"], reason="fraud_review")

    queue = _queue(client, shop, reason=reason)

    assert [h["reason"] for h in queue] == [reason] * expected


def test_the_exceptions_queue_refuses_an_unknown_reason(
    client: TestClient, shop: ApiTenant
) -> None:
    response = client.get("/v1/holds", headers=shop.headers, params={"reason": "gut_feeling"})

    problem = assert_problem(response, 422, "validation_failed")
    assert [e["pointer"] for e in problem["errors"]] == ["query:reason"]


def test_the_exceptions_queue_shows_only_the_callers_holds(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant
) -> None:
    stock_shop(client, other_tenant)
    _place_hold(client, other_tenant, paid_order(client, other_tenant)["id"])
    mine = _place_hold(client, shop, paid_order(client, shop)["id"])

    assert [h["id"] for h in _queue(client, shop)] == [mine["id"]]


def test_cancelling_an_order_takes_its_holds_off_the_queue(
    client: TestClient, shop: ApiTenant
) -> None:
    cancelled = clean_order(client, shop)
    _place_hold(client, shop, cancelled["id"], reason="fraud_review")
    kept = clean_order(client, shop)

    response = client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=shop.headers)

    assert response.status_code == 200, response.text
    assert [(h["order_id"], h["reason"]) for h in _queue(client, shop)] == [
        (kept["id"], "payment_pending")
    ]
    assert all(h["release_note"] == "order cancelled" for h in response.json()["holds"])


def test_a_hold_past_its_sla_is_flagged_overdue_in_the_queue(
    client: TestClient, shop: ApiTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put_policies(client, shop, {"hold_sla_hours": {"manual": 1}})
    waiting = clean_order(client, shop)  # a payment_pending hold, due in 24 hours
    late = _place_hold(client, shop, paid_order(client, shop)["id"], reason="manual")
    due = _at(late["due_at"])
    assert due - _at(late["created_at"]) == timedelta(hours=1)

    # The queue as it reads a second after the manual hold fell due: the route's clock is
    # set, not waited for.
    monkeypatch.setattr(holds_routes, "utcnow", lambda: due + timedelta(seconds=1))
    queue = {h["id"]: h for h in _queue(client, shop)}

    assert queue[late["id"]]["overdue"] is True
    [pending] = [h for h in queue.values() if h["order_id"] == waiting["id"]]
    assert pending["overdue"] is False
    assert _at(pending["due_at"]) - _at(pending["created_at"]) == timedelta(hours=24)


# --- policies ------------------------------------------------------------------------------


def test_a_tenant_starts_with_the_default_policies(client: TestClient, tenant: ApiTenant) -> None:
    response = client.get("/v1/policies", headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json() == DEFAULT_POLICIES


def test_updating_policies_changes_only_what_is_given_and_applies_to_new_holds(
    client: TestClient, shop: ApiTenant, other_tenant: ApiTenant
) -> None:
    updated = _put_policies(
        client, shop, {"hold_sla_hours": {"fraud_review": 0.5}, "reservation_max_ttl_minutes": 30}
    )

    expected = {
        **DEFAULT_POLICIES,
        "hold_sla_hours": {**DEFAULT_POLICIES["hold_sla_hours"], "fraud_review": 0.5},
        "reservation_max_ttl_minutes": 30,
    }
    assert updated == expected
    assert client.get("/v1/policies", headers=shop.headers).json() == expected
    assert client.get("/v1/policies", headers=other_tenant.headers).json() == DEFAULT_POLICIES
    hold = _place_hold(client, shop, paid_order(client, shop)["id"], reason="fraud_review")
    assert _at(hold["due_at"]) - _at(hold["created_at"]) == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"hold_sla_hours": {"manual": 0}}, ["#/hold_sla_hours/manual"]),
        ({"hold_sla_hours": {"manual": -1}}, ["#/hold_sla_hours/manual"]),
        ({"hold_sla_hours": {"manual": 8761}}, ["#/hold_sla_hours/manual"]),
        ({"hold_sla_hours": {"manual": "soon"}}, ["#/hold_sla_hours/manual"]),
        ({"hold_sla_hours": {"manual": True}}, ["#/hold_sla_hours/manual"]),
        ({"hold_sla_hours": {"whenever": 3}}, ["#/hold_sla_hours/whenever"]),
        ({"authorization_ttl_hours": 0}, ["#/authorization_ttl_hours"]),
        ({"reservation_max_ttl_minutes": 0}, ["#/reservation_max_ttl_minutes"]),
        ({"reservation_max_ttl_minutes": 10081}, ["#/reservation_max_ttl_minutes"]),
        ({"reservation_max_ttl_minutes": 1.5}, ["#/reservation_max_ttl_minutes"]),
        ({"sla": 3}, ["#/sla"]),
        (
            {"hold_sla_hours": {"manual": 0, "nope": 1}, "authorization_ttl_hours": -2},
            ["#/hold_sla_hours/manual", "#/hold_sla_hours/nope", "#/authorization_ttl_hours"],
        ),
    ],
    ids=[
        "zero sla",
        "negative sla",
        "sla over a year",
        "sla as text",
        "sla as a boolean",
        "unknown reason",
        "zero authorization ttl",
        "zero reservation minutes",
        "reservation minutes over a week",
        "fractional reservation minutes",
        "unknown field",
        "every problem at once",
    ],
)
def test_bad_policies_are_refused_with_pointers_and_nothing_changes(
    client: TestClient, tenant: ApiTenant, body: dict[str, Any], pointers: list[str]
) -> None:
    response = client.put("/v1/policies", headers=tenant.headers, json=body)

    problem = assert_problem(response, 422)
    assert [e["pointer"] for e in problem["errors"]] == pointers
    assert client.get("/v1/policies", headers=tenant.headers).json() == DEFAULT_POLICIES
