"""Which events email the customer, the settings' rules, and the templates themselves:
each renders both parts from plain facts, escapes what it is given, and says what the
customer needs (with the links) in words without our jargon."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from oms.adapters.email.rendering import JinjaEmailRenderer, readable_on
from oms.domain.errors import InvalidRequest
from oms.domain.holds import HoldReason
from oms.domain.notifications import (
    CUSTOMER_TEMPLATES,
    NotificationSettings,
    Template,
    template_for,
)
from oms.services.customer_email import SAMPLE_PICKUP_CODE, _sample_order, _sample_parts
from oms.services.events import Branding
from oms.services.mailer import EmailContext
from tests.mail_support import MemoryStatusLinks

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
RENDERER = JinjaEmailRenderer()


def _render(template: Template, branding: Branding | None = None) -> tuple[str, str, str]:
    links = MemoryStatusLinks()
    order = _sample_order(links, UUID(int=5))
    context = EmailContext(
        template=template,
        branding=branding or Branding("Musterladen"),
        order=order,
        **_sample_parts(template, order, links, NOW),
    )
    email = RENDERER.render(context)
    return email.subject, email.text, email.html


@pytest.mark.parametrize(
    ("event_type", "reason", "expected"),
    [
        ("order.created", None, Template.ORDER_CONFIRMED),
        ("order.on_hold", "address_invalid", Template.ACTION_NEEDED),
        ("order.on_hold", "payment_pending", Template.ACTION_NEEDED),
        ("order.on_hold", "fraud_review", None),
        ("order.on_hold", "backordered", None),
        ("order.on_hold", "refund_due", None),
        ("order.on_hold", None, None),
        ("shipment.created", None, Template.SHIPPED),
        ("shipment.out_for_delivery", None, Template.OUT_FOR_DELIVERY),
        ("shipment.delivered", None, Template.DELIVERED),
        ("shipment.exception", None, None),
        ("pickup.ready", None, Template.READY_FOR_PICKUP),
        ("order.cancelled", None, Template.CANCELLED),
        ("payment.refunded", None, Template.REFUNDED),
        ("payment.captured", None, None),
        ("webhook_endpoint.disabled", None, Template.WEBHOOK_ENDPOINT_DISABLED),
    ],
)
def test_each_event_has_its_email_or_none(
    event_type: str, reason: str | None, expected: Template | None
) -> None:
    assert template_for(event_type, hold_reason=reason) is expected


def test_only_holds_the_customer_can_fix_are_emailed() -> None:
    fixable = {
        reason
        for reason in HoldReason
        if template_for("order.on_hold", hold_reason=reason.value) is not None
    }
    assert fixable == {HoldReason.ADDRESS_INVALID, HoldReason.PAYMENT_PENDING}


def test_settings_report_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidRequest) as raised:
        NotificationSettings.from_dict(
            {"sender_email": "x", "colour": "blue", "templates": {"shipped": "yes", "nope": True}}
        )

    assert sorted(e.pointer for e in raised.value.errors) == [
        "#/colour",
        "#/sender_email",
        "#/templates/nope",
        "#/templates/shipped",
    ]


def test_settings_come_back_as_they_were_given() -> None:
    given = NotificationSettings.from_dict(
        {"sender_name": " Musterladen ", "colour": "#ABCDEF", "templates": {"refunded": False}}
    )

    assert NotificationSettings.from_dict(given.to_dict()) == NotificationSettings(
        sender_name="Musterladen",
        colour="#abcdef",
        templates=dict.fromkeys(Template, True) | {Template.REFUNDED: False},
    )
    assert not given.enabled(Template.REFUNDED)
    assert given.enabled(Template.SHIPPED)


@pytest.mark.parametrize(
    ("colour", "text"),
    [
        ("#000000", "#ffffff"),
        ("#ffffff", "#111111"),
        ("#1f4e79", "#ffffff"),
        ("#ffcc00", "#111111"),
    ],
)
def test_text_on_the_brand_colour_is_whichever_of_black_or_white_reads_better(
    colour: str, text: str
) -> None:
    assert readable_on(colour) == text


@pytest.mark.parametrize("template", list(Template), ids=str)
def test_every_template_renders_both_parts_with_the_status_link(template: Template) -> None:
    subject, text, html = _render(template)

    assert subject
    assert "\n" not in subject
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in html
    assert f"<title>{subject}" in html.replace("&#39;", "'")
    assert "Musterladen" in text
    assert "Musterladen" in html
    if template in CUSTOMER_TEMPLATES:
        assert "https://status.test/" in text
        assert 'href="https://status.test/' in html
    # No jargon of ours reaches a customer.
    for word in ("fulfil", "fulfillment", "SKU", "outbox", "tenant", "payment_pending", "hold"):
        assert word.lower() not in (text + html).lower().replace("household", ""), word


@pytest.mark.parametrize(
    "template", [Template.SHIPPED, Template.OUT_FOR_DELIVERY, Template.DELIVERED], ids=str
)
def test_parcel_emails_link_the_tracking_page(template: Template) -> None:
    _, text, html = _render(template)

    assert "https://track.test/AC123456786OM" in text
    assert 'href="https://track.test/AC123456786OM"' in html


@pytest.mark.parametrize("template", list(Template), ids=str)
def test_only_the_pickup_email_shows_the_pickup_code(template: Template) -> None:
    _, text, html = _render(template)

    shown = SAMPLE_PICKUP_CODE in text or SAMPLE_PICKUP_CODE in html
    assert shown is (template is Template.READY_FOR_PICKUP)


def test_what_the_merchant_wrote_is_text_in_html_never_markup() -> None:
    branding = Branding(
        display_name="<script>alert(1)</script>",
        logo_url='https://shop.example/logo.png" onerror="alert(1)',
    )

    _, text, html = _render(Template.ORDER_CONFIRMED, branding)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'onerror="' not in html
    assert "<script>alert(1)</script>" in text  # plain text is not HTML


def test_the_only_images_are_the_merchants_logo() -> None:
    _, _, without = _render(Template.SHIPPED)
    _, _, with_logo = _render(
        Template.SHIPPED, Branding("Musterladen", logo_url="https://shop.example/logo.png")
    )

    assert "<img" not in without
    assert with_logo.count("<img") == 1
    assert '<img src="https://shop.example/logo.png" alt="Musterladen"' in with_logo
    for page in (without, with_logo):
        assert "<link" not in page
        assert "<script" not in page
        assert "url(" not in page
