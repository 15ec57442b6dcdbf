"""Resending a customer email from the order page: the email delivery of one of the order's
events is made due again and ``oms worker``'s delivery use case sends it once more (to a
recording sink standing in for SMTP); ``notification.resent`` lands in the timeline under
the user; another order's email, or one still waiting, is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.api.event_data import render_event_data
from oms.domain.delivery_schedule import DeliveryStatus
from oms.domain.errors import NotFound
from oms.domain.orders import Actor
from oms.domain.users import Role, User
from oms.services.event_delivery import fan_out
from oms.services.notification_resend import resend_email
from tests.api.email_support import RecordingEmails, deliver_emails
from tests.api.fulfilment_support import own_engine
from tests.api.order_support import clean_order, stock_shop
from tests.api.portal_support import csrf_of, new_user, sign_in
from tests.api.support import ApiTenant, TestClient
from tests.databases import ENGINES

FIRST_SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database of its own: the worker's fan-out reads every tenant's events."""
    yield from own_engine(request, "portal_order_emails")


@pytest.fixture
def shop(client: TestClient, tenant: ApiTenant) -> ApiTenant:
    return stock_shop(client, tenant)


@pytest.fixture
def admin(api_uow: SqlUnitOfWorkFactory, shop: ApiTenant) -> User:
    return new_user(api_uow, Role.MERCHANT_ADMIN, shop.id)


def _confirmation(uow: SqlUnitOfWorkFactory, tenant_id: UUID, order_id: UUID) -> Any:
    with uow(readonly=True) as tx:
        found = tx.deliveries.for_aggregate(tenant_id, order_id, limit=50)
    [email] = [d for d in found if d.sink_kind == "email"]
    return email


def test_an_email_sent_is_sent_again_and_the_timeline_names_the_user(
    client: TestClient, shop: ApiTenant, admin: User, api_uow: SqlUnitOfWorkFactory
) -> None:
    sink = RecordingEmails(shop.id)
    order = clean_order(client, shop)
    deliver_emails(api_uow, sink, FIRST_SENT)
    order_id = UUID(order["id"])
    sent = _confirmation(api_uow, shop.id, order_id)
    sign_in(client, admin)
    page = f"/app/orders/{shop.id}/{order_id}"
    shown = client.get(page)

    answer = client.post(
        f"{page}/emails/resend",
        data={"csrf_token": csrf_of(shown.text), "delivery": str(sent.id), "note": "lost it"},
        follow_redirects=False,
    )
    again = _confirmation(api_uow, shop.id, order_id)
    assert again.next_attempt_at is not None
    deliver_emails(api_uow, sink, again.next_attempt_at)

    assert sent.status is DeliveryStatus.DELIVERED
    assert re.search(rf'<option value="{sent.id}">order confirmed', shown.text)
    assert answer.status_code == 303
    assert "Email queued to be sent again" in client.get(answer.headers["location"]).text
    assert again.status is DeliveryStatus.PENDING
    assert sink.sent == [(sent.event_id, "order_confirmed")] * 2
    assert _confirmation(api_uow, shop.id, order_id).status is DeliveryStatus.DELIVERED
    events = client.get(f"/v1/orders/{order_id}/events", headers=shop.headers).json()["items"]
    [resent] = [e for e in events if e["type"] == "notification.resent"]
    assert resent["actor"] == f"user:{admin.id}"
    assert resent["reason"] == "lost it"
    assert f"by {admin.email}: lost it" in client.get(page).text


def test_an_email_still_waiting_or_of_another_order_is_refused(
    client: TestClient, shop: ApiTenant, admin: User, api_uow: SqlUnitOfWorkFactory
) -> None:
    sink = RecordingEmails(shop.id)
    first, second = clean_order(client, shop), clean_order(client, shop)
    while fan_out(
        uow_factory=api_uow,
        sinks=[sink],
        render=render_event_data,
        clock=lambda: FIRST_SENT,
        limit=500,
    ):
        pass
    waiting = _confirmation(api_uow, shop.id, UUID(first["id"]))
    sign_in(client, admin)
    page = f"/app/orders/{shop.id}/{first['id']}"
    other = f"/app/orders/{shop.id}/{second['id']}"
    token = csrf_of(client.get(page).text)

    still_waiting = client.post(
        f"{page}/emails/resend", data={"csrf_token": token, "delivery": str(waiting.id)}
    )
    not_this_order = client.post(
        f"{other}/emails/resend", data={"csrf_token": token, "delivery": str(waiting.id)}
    )
    no_token = client.post(f"{page}/emails/resend", data={"delivery": str(waiting.id)})

    assert still_waiting.status_code == 409
    assert "still waiting to be sent" in still_waiting.text
    assert not_this_order.status_code == 404
    assert no_token.status_code == 403
    with pytest.raises(NotFound, match="No email"):
        resend_email(
            uow_factory=api_uow,
            tenant_id=shop.id,
            order_id=UUID(second["id"]),
            delivery_id=waiting.id,
            actor=Actor("user", str(admin.id)),
            at=FIRST_SENT,
        )
    deliver_emails(api_uow, sink, FIRST_SENT)
    events = client.get(f"/v1/orders/{first['id']}/events", headers=shop.headers).json()["items"]
    assert not [e for e in events if e["type"] == "notification.resent"]
