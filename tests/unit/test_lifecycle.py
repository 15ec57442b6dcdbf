"""Every order action against every status: allowed, or refused with a clear 409."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from oms.domain.catalogue import ProductKind
from oms.domain.errors import IllegalTransition, InvalidRequest
from oms.domain.holds import Hold, HoldReason
from oms.domain.lifecycle import ALLOWED, OrderAction, ensure_allowed
from oms.domain.orders import Actor, Customer, Order, OrderLine
from oms.domain.policies import TenantPolicies
from oms.domain.status import OrderStatus

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
WHO = Actor("api_key", "k")

ALLOWED_PAIRS = {
    (OrderAction.PLACE_HOLD, OrderStatus.OPEN),
    (OrderAction.PLACE_HOLD, OrderStatus.ON_HOLD),
    (OrderAction.RELEASE_HOLD, OrderStatus.OPEN),
    (OrderAction.RELEASE_HOLD, OrderStatus.ON_HOLD),
    # A flag (refund_due) stops nothing, so it may be raised and settled in any state.
    *((OrderAction.FLAG, status) for status in OrderStatus),
    (OrderAction.CANCEL, OrderStatus.OPEN),
    (OrderAction.CANCEL, OrderStatus.ON_HOLD),
    (OrderAction.CANCEL, OrderStatus.CANCELLED),
    (OrderAction.EDIT, OrderStatus.OPEN),
    (OrderAction.EDIT, OrderStatus.ON_HOLD),
    (OrderAction.AUTHORIZE, OrderStatus.OPEN),
    (OrderAction.AUTHORIZE, OrderStatus.ON_HOLD),
    (OrderAction.CAPTURE, OrderStatus.OPEN),
    (OrderAction.CAPTURE, OrderStatus.ON_HOLD),
    (OrderAction.CAPTURE, OrderStatus.CLOSED),
    (OrderAction.REFUND, OrderStatus.OPEN),
    (OrderAction.REFUND, OrderStatus.ON_HOLD),
    (OrderAction.REFUND, OrderStatus.CLOSED),
    (OrderAction.REFUND, OrderStatus.CANCELLED),
    (OrderAction.VOID, OrderStatus.OPEN),
    (OrderAction.VOID, OrderStatus.ON_HOLD),
    (OrderAction.VOID, OrderStatus.CANCELLED),
    (OrderAction.RELEASE, OrderStatus.OPEN),
    (OrderAction.REROUTE, OrderStatus.OPEN),
    (OrderAction.REROUTE, OrderStatus.ON_HOLD),
}


@pytest.mark.parametrize("action", list(OrderAction))
@pytest.mark.parametrize("status", list(OrderStatus))
def test_each_action_is_allowed_exactly_in_the_statuses_of_the_table(
    action: OrderAction, status: OrderStatus
) -> None:
    if (action, status) in ALLOWED_PAIRS:
        ensure_allowed(action, status)
    else:
        with pytest.raises(IllegalTransition) as refused:
            ensure_allowed(action, status)
        assert status.value in refused.value.detail
        assert refused.value.extra == {"action": action.value, "status": status.value}
    assert ((action, status) in ALLOWED_PAIRS) == (status in ALLOWED[action])


@pytest.mark.parametrize("action", [OrderAction.EDIT, OrderAction.RELEASE])
def test_a_released_order_can_be_neither_edited_nor_released_again(action: OrderAction) -> None:
    with pytest.raises(IllegalTransition, match="already released"):
        ensure_allowed(action, OrderStatus.OPEN, released=True)


def _order(**line: int) -> Order:
    return Order(
        id=UUID(int=1),
        tenant_id=UUID(int=2),
        number=1001,
        channel="api",
        external_id=None,
        currency="EUR",
        customer=Customer(),
        shipping_address=None,
        billing_address=None,
        lines=[OrderLine(1, "A", "a", ProductKind.PHYSICAL, 2, Decimal(5), **line)],
        created_at=NOW,
    )


def _hold(reason: HoldReason = HoldReason.MANUAL) -> Hold:
    return Hold(id=UUID(int=9), reason=reason, created_at=NOW, due_at=NOW + timedelta(hours=1))


def test_a_hold_records_an_event_with_the_status_before_and_after() -> None:
    order = _order(allocated=2)
    order.place_hold(_hold(), actor=WHO, at=NOW)
    (event,) = order.new_events
    assert event.type == "hold.placed"
    assert (event.data["before"]["status"], event.data["after"]["status"]) == ("open", "on_hold")
    assert event.actor == "api_key:k"


def test_releasing_a_hold_needs_a_note_and_then_cannot_be_repeated() -> None:
    order = _order(allocated=2)
    order.place_hold(_hold(), actor=WHO, at=NOW)
    with pytest.raises(InvalidRequest):
        order.release_hold(UUID(int=9), actor=WHO, at=NOW, note=" ")
    order.release_hold(UUID(int=9), actor=WHO, at=NOW, note="checked with the customer")
    assert order.status is OrderStatus.OPEN
    with pytest.raises(IllegalTransition):
        order.release_hold(UUID(int=9), actor=WHO, at=NOW, note="again")


@pytest.mark.parametrize(
    ("secured", "holds", "released"),
    [
        (True, [], True),
        (False, [], False),
        (True, [HoldReason.FRAUD_REVIEW], False),
        (True, [HoldReason.REFUND_DUE], True),  # a flag holds nothing back
    ],
)
def test_release_for_fulfilment_needs_payment_and_no_open_hold(
    secured: bool, holds: list[HoldReason], released: bool
) -> None:
    order = _order(allocated=2)
    for reason in holds:
        order.place_hold(_hold(reason), actor=WHO, at=NOW)
    assert order.release_for_fulfilment(payment_secured=secured, actor=WHO, at=NOW) is released
    assert (order.released_at is not None) is released


@pytest.mark.parametrize(
    "line", [{"allocated": 2}, {"cancelled": 2}, {"shipped": 2, "delivered": 2}]
)
def test_a_refund_due_flag_stops_nothing_and_only_the_system_settles_it(
    line: dict[str, int],
) -> None:
    order = _order(**line)
    order.refresh_statuses(NOW)
    status = order.status

    order.place_hold(_hold(HoldReason.REFUND_DUE), actor=WHO, at=NOW)

    assert order.status is status
    assert [h.reason for h in order.open_holds] == [HoldReason.REFUND_DUE]
    assert order.blocking_holds == []
    with pytest.raises(IllegalTransition, match="refund the money"):
        order.release_hold(UUID(int=9), actor=WHO, at=NOW, note="keep it")
    order.release_holds_of(HoldReason.REFUND_DUE, actor=WHO, at=NOW, note="refunded")
    assert order.open_holds == []


def test_cancelling_keeps_a_refund_due_flag_open() -> None:
    order = _order(allocated=2)
    order.place_hold(_hold(HoldReason.REFUND_DUE), actor=WHO, at=NOW)
    order.cancel(actor=WHO, at=NOW, reason=None)
    assert [h.reason for h in order.open_holds] == [HoldReason.REFUND_DUE]


def test_a_cancelled_order_is_never_released() -> None:
    order = _order(allocated=2)
    order.cancel(actor=WHO, at=NOW, reason=None)
    assert order.release_for_fulfilment(payment_secured=True, actor=WHO, at=NOW) is False


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        ({"hold_sla_hours": {"nonsense": 2}}, "#/hold_sla_hours/nonsense"),
        ({"hold_sla_hours": {"manual": -1}}, "#/hold_sla_hours/manual"),
        ({"hold_sla_hours": {"manual": True}}, "#/hold_sla_hours/manual"),
        ({"authorization_ttl_hours": 0}, "#/authorization_ttl_hours"),
        ({"reservation_max_ttl_minutes": 99999}, "#/reservation_max_ttl_minutes"),
        ({"overpayment": "keep"}, "#/overpayment"),
        ({"overpayment": ["refund"]}, "#/overpayment"),
    ],
)
def test_bad_policies_are_refused_with_a_pointer(raw: dict[str, object], pointer: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        TenantPolicies.from_dict(raw)
    assert [e.pointer for e in refused.value.errors] == [pointer]


def test_a_tenant_sla_sets_the_due_time_and_defaults_fill_the_rest() -> None:
    policies = TenantPolicies.from_dict({"hold_sla_hours": {"fraud_review": 0.5}})
    assert policies.hold_sla(HoldReason.FRAUD_REVIEW) == timedelta(minutes=30)
    assert policies.hold_sla(HoldReason.MANUAL) == timedelta(hours=24)
    assert TenantPolicies.from_dict(policies.to_dict()) == policies
