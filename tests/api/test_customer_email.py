"""Customer email end to end: orders placed, held, shipped, collected, cancelled and
refunded through the API; their outbox messages fanned out and delivered by ``oms worker``'s
use cases (``tests.mail_support.Worker``: one round at a time); the emails sent over SMTP to
a real server on loopback (aiosmtpd) and read back as they arrived. One test runs the
sinks as ``oms.wiring.event_sinks`` gives them to the worker, webhook beside email.

Rate cards are deployment-wide, so this module runs on a database of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from random import Random
from typing import Any

import pytest
from sqlalchemy import Engine

from oms.adapters.broker.nats_sink import event_body
from oms.adapters.carriers.signature import sign
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.email.sink import EmailSink
from oms.adapters.webhooks.addresses import AddressGuard
from oms.api.event_data import render_event_data
from oms.config import Settings
from oms.services.event_delivery import deliver_due, fan_out
from oms.services.webhook_endpoints import EndpointHealth, create_endpoint, record_endpoint_health
from oms.wiring import event_sinks, pickup_code_key
from tests.api.fulfilment_support import (
    COLOGNE,
    add_sites,
    get_json,
    own_engine,
    post_json,
    rated_client,
)
from tests.api.support import (
    ApiTenant,
    TestClient,
    api_settings_for,
    create_product,
    new_tenant,
    set_on_hand,
)
from tests.databases import ENGINES
from tests.mail_support import Inbox, Worker, running_smtp_server, smtp_sink
from tests.webhook_receiver import Receiver, receiving

CARD = {"gateway": "test", "token": "tok_approve"}
PAID = {"gateway": "manual", "captured": True}
SITES = {
    "WH-A": ("warehouse", 50.88, 7.06, {"city": "Koeln", "postal_code": "51105"}),
    "STORE-1": ("store", 50.94, 6.95, {"city": "Koeln", "postal_code": "50667"}),
}
BOXES = [
    {"code": "L", "length_mm": 600, "width_mm": 400, "height_mm": 400, "max_weight_grams": 30000},
]
ERIKA = {"email": "erika@example.com", "name": "Erika Mustermann"}


@pytest.fixture(scope="module", params=ENGINES)
def api_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    yield from own_engine(request, "customer_email")


@pytest.fixture(scope="module")
def api_uow(api_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(api_engine)


@pytest.fixture(scope="module")
def settings(api_engine: Engine) -> Settings:
    return api_settings_for(api_engine.url.render_as_string(hide_password=False))


@pytest.fixture(scope="module")
def client(
    api_engine: Engine, settings: Settings, api_uow: SqlUnitOfWorkFactory
) -> Iterator[TestClient]:
    yield from rated_client(api_engine, settings, api_uow)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Inbox]:
    yield from running_smtp_server()


@pytest.fixture
def inbox(smtp_server: Inbox) -> Iterator[Inbox]:
    smtp_server.take()
    yield smtp_server
    smtp_server.refuse.clear()


@pytest.fixture
def sink(settings: Settings, smtp_server: Inbox) -> Iterator[EmailSink]:
    yield from smtp_sink(smtp_server, pickup_key=pickup_code_key(settings))


@pytest.fixture
def shop(api_uow: SqlUnitOfWorkFactory, client: TestClient) -> ApiTenant:
    tenant = new_tenant(api_uow, "Musterladen")
    add_sites(client, tenant, SITES, BOXES)
    create_product(client, tenant, "X", name="Wool scarf", price="20.00", weight_grams=800)
    create_product(client, tenant, "Z", name="Tea mug", price="12.00", weight_grams=300)
    set_on_hand(client, tenant, "X", "WH-A", 20)
    set_on_hand(client, tenant, "Z", "STORE-1", 5)
    return tenant


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def driver(api_uow: SqlUnitOfWorkFactory, sink: EmailSink, shop: ApiTenant) -> Worker:
    return Worker(api_uow, sink, shop.id)


def _place(
    client: TestClient,
    shop: ApiTenant,
    sku: str,
    *,
    quantity: int = 1,
    shipping_address: dict[str, Any] | None = COLOGNE,
    **fields: Any,
) -> dict[str, Any]:
    """Erika's order of ``quantity`` units of ``sku`` (to Cologne unless told), placed."""
    body = {
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": quantity}],
        "customer": ERIKA,
        **fields,
    }
    if shipping_address is not None:
        body["shipping_address"] = shipping_address
    placed: dict[str, Any] = post_json(client, shop, "/v1/orders", body, 201)
    return placed


def _parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def _fo_at(client: TestClient, shop: ApiTenant, order_id: str, code: str) -> dict[str, Any]:
    fos = get_json(client, shop, f"/v1/orders/{order_id}/fulfillment-orders")["items"]
    found: dict[str, Any] = next(fo for fo in fos if fo["location"] == code)
    return found


def _ship(client: TestClient, shop: ApiTenant, order_id: str) -> dict[str, Any]:
    fo = _fo_at(client, shop, order_id, "WH-A")
    wave = post_json(client, shop, "/v1/locations/WH-A/pick-waves", {"max_orders": 10}, 201)
    post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")
    post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/packages", {"scans": ["X"]}, 201)
    shipment: dict[str, Any] = post_json(
        client, shop, f"/v1/fulfillment-orders/{fo['id']}/shipments", None, 201
    )
    return shipment


def _carrier_says(client: TestClient, settings: Settings, number: str, *steps: str) -> None:
    events = [
        {
            "id": f"{number}-{status}",
            "tracking_number": number,
            "status": status,
            "occurred_at": f"2026-11-2{day}T09:00:00Z",
            "location": "Koeln hub",
        }
        for day, status in enumerate(steps, start=1 if steps[0] != "delivered" else 5)
    ]
    body = json.dumps({"events": events}).encode()
    answer = client.post(
        "/v1/carriers/acme/events",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-OMS-Signature": sign(body, settings.carrier_webhook_secret),
        },
    )
    assert answer.status_code == 200, answer.text


# --- the emails ------------------------------------------------------------------------------


def test_a_shipped_order_tells_the_customer_each_step_with_its_tracking_link(
    client: TestClient, shop: ApiTenant, settings: Settings, driver: Worker, inbox: Inbox
) -> None:
    order = _place(client, shop, "X", quantity=2, payment=CARD)
    shipment = _ship(client, shop, order["id"])
    _carrier_says(client, settings, shipment["tracking_number"], "in_transit", "out_for_delivery")
    _carrier_says(client, settings, shipment["tracking_number"], "delivered")

    deliveries = driver.run()
    arrived = inbox.take()

    number, tracking = order["number"], shipment["tracking_number"]
    assert [(d.key, d.sent) for d in deliveries] == [
        ("order_confirmed", True),
        ("shipped", True),
        ("out_for_delivery", True),
        ("delivered", True),
    ]
    assert [m["Subject"] for m in arrived] == [
        f"Thank you for your order #{number}",
        f"Your order #{number} is on its way",
        f"Your order #{number} arrives today",
        f"Your order #{number} has been delivered",
    ]
    status_link = f"https://status.test/{shop.id}/{number}?token=signed-{order['id']}"
    for message, delivery in zip(arrived, deliveries, strict=True):
        text, html = _parts(message)
        assert message["To"] == "erika@example.com"
        assert message["From"] == "Musterladen <orders@oms.test>"
        assert message["Message-ID"] == f"<{delivery.event.id}.{delivery.key}@oms.test>"
        assert status_link in text
        assert status_link.replace("&", "&amp;") in html
        assert "Erika Mustermann" in text
        assert "Erika Mustermann" in html
    for message in arrived[1:]:
        text, html = _parts(message)
        assert f"https://track.test/{tracking}" in text
        assert f'href="https://track.test/{tracking}"' in html
    assert all("with Acme" in _parts(m)[0] for m in arrived[1:3])  # shipped, out for delivery
    confirmed_text, _ = _parts(arrived[0])
    assert "2 x Wool scarf" in confirmed_text
    assert "Heidestrasse 17" in confirmed_text
    assert "€40.00" in confirmed_text


def test_the_pickup_code_travels_in_the_ready_for_pickup_email_and_nowhere_else(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    order = _place(
        client, shop, "Z", pickup_location="STORE-1", payment=CARD, shipping_address=None
    )
    fo = _fo_at(client, shop, order["id"], "STORE-1")
    wave = post_json(client, shop, "/v1/locations/STORE-1/pick-waves", {}, 201)
    code = post_json(client, shop, f"/v1/pick-waves/{wave['id']}/confirm")["pickup_codes"][fo["id"]]
    # A shipped order of the same customer, so other kinds of email are there to look in.
    other = _place(client, shop, "X", payment=CARD)
    _ship(client, shop, other["id"])

    deliveries = driver.run()
    arrived = inbox.take()

    by_subject = {m["Subject"]: m for m in arrived}
    ready = by_subject[f"Your order #{order['number']} is ready to collect"]
    text, html = _parts(ready)
    assert f"Your collection code: {code}" in text
    assert f">{code}</p>" in html
    assert "Site STORE-1" in text  # where to collect it
    assert len(arrived) == len(deliveries) == 4  # two confirmations, ready, shipped
    for message in arrived:
        if message is not ready:
            assert code not in message.as_string(), message["Subject"]
    # Nor in any event payload or body a webhook or the broker would carry.
    for event in driver.events:
        assert code not in json.dumps(event.detail) + json.dumps(event.data)
        assert code.encode() not in event_body(event)

    # Collected: the code is spent, and a late attempt sends nothing.
    post_json(client, shop, f"/v1/fulfillment-orders/{fo['id']}/pickup", {"code": code})
    pickup_event = next(e for e in driver.events if e.type == "pickup.ready")
    with driver.uow(readonly=True) as uow:
        assert driver.sink.prepare(uow, pickup_event, "ready_for_pickup") is None


def test_an_address_we_cannot_use_asks_the_customer_for_a_corrected_one(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    changed = client.put(
        "/v1/notification-settings",
        headers=shop.headers,
        json={"reply_to": "help@musterladen.example", "templates": {"order_confirmed": False}},
    )
    assert changed.status_code == 200, changed.text
    # German postal codes have five digits: this one cannot be used.
    order = _place(
        client, shop, "X", shipping_address={**COLOGNE, "postal_code": "5114"}, payment=PAID
    )

    deliveries = driver.run()
    [message] = inbox.take()

    assert [d.key for d in deliveries] == ["action_needed"]  # the confirmation is off
    assert message["Subject"] == f"Please check your delivery address for order #{order['number']}"
    assert message["Reply-To"] == "help@musterladen.example"
    text, html = _parts(message)
    assert "reply to this email with the full, correct address" in text.lower()
    assert "5114 Koeln" in text
    assert "What to do" in html


def test_an_unpaid_order_asks_for_payment_and_a_fraud_review_says_nothing(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    order = _place(client, shop, "X")
    post_json(
        client, shop, f"/v1/orders/{order['id']}/holds", {"reason": "fraud_review"}, status=201
    )

    deliveries = driver.run()
    arrived = inbox.take()

    held = [e.detail["data"]["reason"] for e in driver.events if e.type == "order.on_hold"]
    assert sorted(held) == ["fraud_review", "payment_pending"]
    assert [d.key for d in deliveries] == ["order_confirmed", "action_needed"]
    assert (
        arrived[1]["Subject"] == f"Your payment for order #{order['number']} has not come through"
    )
    text, _ = _parts(arrived[1])
    assert "€20.00" in text
    assert "complete your payment" in text


def test_a_hold_lifted_before_the_email_goes_sends_nothing(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    order = _place(
        client, shop, "X", shipping_address={**COLOGNE, "postal_code": "5114"}, payment=PAID
    )
    [hold] = get_json(client, shop, f"/v1/orders/{order['id']}")["holds"]
    driver.fan_out()
    post_json(
        client,
        shop,
        f"/v1/orders/{order['id']}/holds/{hold['id']}/release",
        {"note": "confirmed by phone"},
    )

    deliveries = driver.deliver()

    assert [(d.key, d.sent) for d in deliveries] == [
        ("order_confirmed", True),
        ("action_needed", False),
    ]
    assert [m["Subject"] for m in inbox.take()] == [f"Thank you for your order #{order['number']}"]


def test_a_cancelled_then_refunded_order_says_so_with_the_amount(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    order = _place(client, shop, "X", payment=PAID)
    post_json(client, shop, f"/v1/orders/{order['id']}/cancel", {"reason": "customer asked"})
    post_json(client, shop, f"/v1/orders/{order['id']}/payments/refund", {"gateway": "manual"})

    deliveries = driver.run()
    arrived = inbox.take()

    assert [d.key for d in deliveries] == ["order_confirmed", "cancelled", "refunded"]
    number = order["number"]
    assert [m["Subject"] for m in arrived[1:]] == [
        f"Your order #{number} has been cancelled",
        f"We have refunded €20.00 for order #{number}",
    ]
    cancelled, _ = _parts(arrived[1])
    assert "You paid €20.00" in cancelled
    assert "customer asked" not in cancelled  # the merchant's note stays the merchant's


def test_a_template_switched_off_after_fan_out_is_not_sent(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    _place(client, shop, "X", payment=PAID)
    event = next(e for e in driver.fan_out() if e.type == "order.created")
    with driver.uow() as uow:
        assert driver.sink.subscribers(uow, event) == ["order_confirmed"]
    off = {"templates": {"order_confirmed": False}}
    assert (
        client.put("/v1/notification-settings", headers=shop.headers, json=off).status_code == 200
    )

    with driver.uow(readonly=True) as uow:
        prepared = driver.sink.prepare(uow, event, "order_confirmed")
        fanned_out = driver.sink.subscribers(uow, event)

    assert (prepared, fanned_out) == (None, [])
    assert [(d.key, d.sent) for d in driver.deliver()] == [("order_confirmed", False)]
    assert inbox.take() == []


def test_a_webhook_endpoint_switched_off_is_told_to_the_merchant(
    client: TestClient, shop: ApiTenant, driver: Worker, inbox: Inbox
) -> None:
    endpoint = create_endpoint(
        uow_factory=driver.uow,
        tenant_id=shop.id,
        url="http://127.0.0.1:9/oms-hooks",
        event_types=["order.created"],
        description="the shop's ERP",
        check=AddressGuard(allow_private=True),
    )
    failed = [EndpointHealth(shop.id, endpoint.id, delivered=False)]
    first_failure = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    for at in (first_failure, first_failure + timedelta(days=3, seconds=1)):
        with driver.uow() as uow:
            record_endpoint_health(uow, failed, at)
            uow.commit()

    nobody_to_tell = driver.run()  # the shop has no address of its own for this yet
    changed = client.put(
        "/v1/notification-settings",
        headers=shop.headers,
        json={"notify_email": "ops@musterladen.example"},
    )
    assert changed.status_code == 200, changed.text
    [disabled] = [e for e in driver.events if e.type == "webhook_endpoint.disabled"]
    with driver.uow() as uow:
        assert driver.sink.subscribers(uow, disabled) == ["webhook_endpoint_disabled"]
    # Fanned out again as a replay would: the same event, now with someone to tell.
    with driver.uow(readonly=True) as uow:
        prepared = driver.sink.prepare(uow, disabled, "webhook_endpoint_disabled")
    assert prepared is not None
    told = driver.sink.send(prepared, event=disabled, key="webhook_endpoint_disabled", attempt=1)
    [message] = inbox.take()

    assert nobody_to_tell == []
    assert told.delivered
    assert message["To"] == "ops@musterladen.example"
    assert message["Subject"] == "Webhook endpoint switched off: http://127.0.0.1:9/oms-hooks"
    text, _ = _parts(message)
    assert str(endpoint.id) in text


def test_the_worker_sends_every_sink_and_the_email_link_opens_the_status_page(
    client: TestClient, shop: ApiTenant, settings: Settings, driver: Worker, inbox: Inbox
) -> None:
    """The sinks as ``oms worker`` is given them (``oms.wiring.event_sinks``): a webhook
    endpoint verified with the standardwebhooks library, and customer email whose signed
    status link opens the shop's order status page without asking anything."""
    wired = settings.model_copy(
        update={
            "smtp_url": f"smtp://127.0.0.1:{inbox.port}?timeout=5",
            "email_from": "o@oms.test",
            "webhook_allow_private": True,
        }
    )
    sinks = event_sinks(wired, lambda: Worker.CLOCK, uow_factory=driver.uow)
    assert [sink.kind for sink in sinks] == [
        "webhook",
        "email",
        "shopify",
        "woocommerce",
        "magento2",
        "shopify_stock",
        "woocommerce_stock",
        "magento2_stock",
    ]
    with receiving(Receiver(secrets=[], clock=lambda: Worker.CLOCK)) as receiver:
        endpoint = create_endpoint(
            uow_factory=driver.uow,
            tenant_id=shop.id,
            url=receiver.url,
            event_types=["order.created"],
            description=None,
            check=AddressGuard(allow_private=True),
        )
        receiver.secrets.append(endpoint.secret)
        order = _place(client, shop, "X", payment=PAID)
        while fan_out(
            uow_factory=driver.uow,
            sinks=sinks,
            render=render_event_data,
            clock=lambda: Worker.CLOCK,
            limit=500,
        ):
            pass
        report = deliver_due(
            uow_factory=driver.uow,
            sinks={sink.kind: sink for sink in sinks},
            clock=lambda: Worker.CLOCK,
            rng=Random(0),
            limit=500,
        )
        for sink in sinks:
            close = getattr(sink, "close", None)
            if close is not None:
                close()

    [hook] = receiver.arrivals
    [message] = inbox.take()
    assert report.delivered == 2
    assert hook.verified, hook.error
    assert hook.payload["data"]["id"] == order["id"]
    assert message["Subject"] == f"Thank you for your order #{order['number']}"
    text, _ = _parts(message)
    [link] = [w for w in text.split() if "/status/" in w]
    assert link.startswith(f"{settings.public_url.rstrip('/')}/status/")
    page = client.get(
        link.removeprefix(settings.public_url.rstrip("/")), headers={"Accept": "text/html"}
    )
    assert page.status_code == 200, page.text
    assert f"#{order['number']}" in page.text


class _CountedOrders:
    """An order repository that counts how the orders are read."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.reads: list[str] = []

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.reads.append("get")
        return self._inner.get(*args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        self.reads.append("get_many")
        return self._inner.get_many(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_batch_of_emails_reads_its_orders_at_once_and_says_what_each_alone_would(
    client: TestClient, shop: ApiTenant, driver: Worker, sink: EmailSink
) -> None:
    """The worker prepares a batch in one transaction: the confirmations of three orders
    read the three orders in one query (not one each), and each email is the one its event
    would get alone."""
    placed = [_place(client, shop, "X", payment=PAID) for _ in range(3)]
    events = [e for e in driver.fan_out() if e.type == "order.created"]
    assert sorted(str(e.aggregate_id) for e in events) == sorted(o["id"] for o in placed)
    wanted = [(event, "order_confirmed") for event in events]

    with driver.uow(readonly=True) as uow:
        counted = _CountedOrders(uow.orders)
        uow.orders = counted  # type: ignore[misc]
        together = sink.prepare_many(uow, wanted)
        reads_together = list(counted.reads)
    alone = []
    for event, key in wanted:
        with driver.uow(readonly=True) as uow:
            alone.append(sink.prepare(uow, event, key))

    assert reads_together == ["get_many"]
    assert together == alone
    assert [email.to for email in together if email is not None] == [ERIKA["email"]] * 3
    numbers = {f"#{o['number']}" for o in placed}
    assert {email.subject.split()[-1] for email in together if email is not None} == numbers
