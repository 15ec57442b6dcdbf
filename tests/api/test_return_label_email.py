"""The approval email of a return carries its label, through a real SMTP server on
loopback: the label as a PDF that shows the tracking number, and the drop-off QR code as an
inline PNG the HTML shows, which decodes to the tracking number; a label the customer pays
for says its cost; a label bought after the approval email went is carried by the email
resent (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from uuid import UUID

import numpy
import pytest
import zxingcpp
from babel.numbers import format_currency
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import Engine, select

from oms.adapters.db.tables import event_deliveries
from oms.adapters.db.uow import SqlUnitOfWorkFactory
from oms.adapters.documents.pdf import PdfRenderer
from oms.adapters.email.sink import EmailSink
from oms.domain.returns import ReturnPolicy, ReturnRequest, WantedLine
from oms.services import returns
from oms.services.notification_resend import resend_email
from oms.services.return_labels import buy_return_label
from oms.services.tenants import create_tenant
from tests.builders import TESTER
from tests.integration.returns_support import (
    CARRIERS,
    PICKUP_KEY,
    SHIPPED_AT,
    open_shop,
    returns_engine,
    shipped_order,
)
from tests.mail_support import Inbox, Worker, running_smtp_server, smtp_sink

__all__ = ["returns_engine"]

LATER = SHIPPED_AT + timedelta(days=3)


@pytest.fixture(scope="module")
def uow(returns_engine: Engine) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(returns_engine)


@pytest.fixture
def tenant_id(uow: SqlUnitOfWorkFactory) -> UUID:
    tenant, _ = create_tenant(uow_factory=uow, name="label email shop")
    open_shop(uow, tenant.id)
    return tenant.id


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[Inbox]:
    yield from running_smtp_server()


@pytest.fixture
def inbox(smtp_server: Inbox) -> Inbox:
    smtp_server.take()
    return smtp_server


@pytest.fixture
def sink(smtp_server: Inbox) -> Iterator[EmailSink]:
    yield from smtp_sink(smtp_server, pickup_key=PICKUP_KEY, documents=PdfRenderer())


def _approved_return(uow: SqlUnitOfWorkFactory, tenant_id: UUID) -> ReturnRequest:
    order = shipped_order(uow, tenant_id, ("X", 1))
    request, _ = returns.request_return(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=order.id,
        command=returns.NewReturn((WantedLine(1, 1, "defective"),)),  # approved by itself
        actor=TESTER,
        at=LATER,
    )
    return request


def _label(uow: SqlUnitOfWorkFactory, tenant_id: UUID, request: ReturnRequest) -> str:
    labelled = buy_return_label(
        uow_factory=uow,
        carriers=CARRIERS,
        tenant_id=tenant_id,
        return_id=request.id,
        location="NEAR",
        actor=TESTER,
        at=LATER,
    )
    assert labelled.label is not None
    return labelled.label.tracking_number


def _body(message: EmailMessage, kind: str) -> str:
    body = message.get_body(preferencelist=(kind,))
    assert body is not None
    text: str = body.get_content()
    return text


def _files(message: EmailMessage) -> dict[str, tuple[str, bytes, str | None]]:
    """Every non-text part by content type: (filename, bytes, Content-ID)."""
    found = {}
    for part in message.walk():
        if part.get_content_maintype() in ("application", "image"):
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            found[part.get_content_type()] = (part.get_filename() or "", data, part["Content-ID"])
    return found


def _decoded_qr(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return [code.text for code in zxingcpp.read_barcodes(numpy.array(image))]


def _approval_email(worker: Worker, inbox: Inbox) -> EmailMessage:
    sent = worker.run()
    assert ("return_approved", True) in [(d.key, d.sent) for d in sent]
    (approved,) = [m for m in inbox.take() if m["X-OMS-Template"] == "return_approved"]
    return approved


def test_the_approval_email_carries_the_label_pdf_and_a_drop_off_qr_code(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sink: EmailSink, inbox: Inbox
) -> None:
    worker = Worker(uow, sink, tenant_id)
    request = _approved_return(uow, tenant_id)
    tracking = _label(uow, tenant_id, request)
    approved = _approval_email(worker, inbox)

    files = _files(approved)
    name, pdf, _ = files["application/pdf"]
    assert name == f"return-label-{tracking}.pdf"
    label_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert tracking in label_text
    assert f"#{request.order_number}" in label_text
    _, png, content_id = files["image/png"]
    assert _decoded_qr(png) == [tracking]
    assert content_id is not None
    assert f'src="cid:{content_id.strip("<>")}"' in _body(approved, "html")
    text = _body(approved, "plain")
    assert tracking in text
    assert "attached as a PDF" in text
    assert "comes off your refund" not in text


def test_a_label_the_customer_pays_for_says_its_cost(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sink: EmailSink, inbox: Inbox
) -> None:
    returns.put_policy(
        uow_factory=uow, tenant_id=tenant_id, policy=ReturnPolicy(customer_pays_label=True)
    )
    worker = Worker(uow, sink, tenant_id)
    request = _approved_return(uow, tenant_id)
    _label(uow, tenant_id, request)
    found = returns.get_return(uow_factory=uow, tenant_id=tenant_id, return_id=request.id)
    assert found.label is not None
    approved = _approval_email(worker, inbox)
    with uow(readonly=True) as reading:
        order = reading.orders.get(tenant_id, request.order_id, with_events=False)
    assert order is not None
    cost = format_currency(found.label.cost, order.currency, locale="en")
    assert f"The label costs {cost}; it comes off your refund." in _body(approved, "plain")
    assert f"The label costs {cost}; it comes off your refund." in _body(approved, "html")


def test_a_label_bought_after_the_approval_email_comes_with_the_email_resent(
    uow: SqlUnitOfWorkFactory, tenant_id: UUID, sink: EmailSink, inbox: Inbox
) -> None:
    worker = Worker(uow, sink, tenant_id)
    request = _approved_return(uow, tenant_id)
    first = _approval_email(worker, inbox)
    assert _files(first) == {}
    tracking = _label(uow, tenant_id, request)
    with uow.engine.connect() as conn:
        delivery_id = conn.execute(
            select(event_deliveries.c.id).where(
                event_deliveries.c.tenant_id == tenant_id,
                event_deliveries.c.subscriber_key == "return_approved",
            )
        ).scalar_one()
    resend_email(
        uow_factory=uow,
        tenant_id=tenant_id,
        order_id=request.order_id,
        delivery_id=delivery_id,
        actor=TESTER,
        at=Worker.CLOCK,  # due when the worker's clock looks
    )
    again = _approval_email(worker, inbox)
    assert again["Message-ID"] == first["Message-ID"]
    files = _files(again)
    assert set(files) == {"application/pdf", "image/png"}
    assert _decoded_qr(files["image/png"][1]) == [tracking]
